"""Frontend: server-rendered pages (Django templates) and static assets, the embedded
labeling editor, the Data Manager and Verify pages. The top layer: it may import every
app, and nothing imports it."""
