"""Labeling config templates offered when creating a project (from the Label Studio docs'
templates). The editor preview fills a config with ``importers.samples.sample_data``.

``TEMPLATES`` holds those the embedded editor (``LABELHUB_EDITOR``, read once at start) can
show: the 1.4 fallback has no video tracking, timeline labels or PDF."""

from django.conf import settings

from projects.label_config import editor_unsupported_tags

ALL_TEMPLATES: list[dict] = [
    {
        "key": "text-classification",
        "group": "Natural language",
        "title": "Text classification",
        "config": """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>""",
    },
    {
        "key": "ner",
        "group": "Natural language",
        "title": "Named entity recognition",
        "config": """<View>
  <Labels name="label" toName="text">
    <Label value="Person" background="#ef4444"/>
    <Label value="Organization" background="#f59e0b"/>
    <Label value="Location" background="#2563eb"/>
    <Label value="Date" background="#16a34a"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>""",
    },
    {
        "key": "summarization",
        "group": "Natural language",
        "title": "Text summarization",
        "config": """<View>
  <Header value="Read the text"/>
  <Text name="text" value="$text"/>
  <Header value="Write a one-sentence summary"/>
  <TextArea name="summary" toName="text" rows="3" maxSubmissions="1" editable="true"/>
</View>""",
    },
    {
        "key": "image-classification",
        "group": "Computer vision",
        "title": "Image classification",
        "config": """<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image" choice="single">
    <Choice value="Cat"/>
    <Choice value="Dog"/>
    <Choice value="Other"/>
  </Choices>
</View>""",
    },
    {
        "key": "bbox",
        "group": "Computer vision",
        "title": "Object detection with bounding boxes",
        "config": """<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat" background="#ef4444"/>
    <Label value="Dog" background="#2563eb"/>
  </RectangleLabels>
</View>""",
    },
    {
        "key": "polygons",
        "group": "Computer vision",
        "title": "Semantic segmentation with polygons",
        "config": """<View>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small">
    <Label value="Road" background="#64748b"/>
    <Label value="Sky" background="#38bdf8"/>
  </PolygonLabels>
</View>""",
    },
    {
        "key": "shapes",
        "group": "Computer vision",
        "title": "Polygons, ellipses and key points (no labels)",
        "config": """<View>
  <Image name="image" value="$image"/>
  <Polygon name="polygon" toName="image" strokeWidth="3" pointSize="small"/>
  <Ellipse name="ellipse" toName="image"/>
  <KeyPoint name="keypoint" toName="image"/>
</View>""",
    },
    {
        "key": "ocr",
        "group": "Computer vision",
        "title": "Optical character recognition",
        "config": """<View>
  <Image name="image" value="$image"/>
  <Labels name="label" toName="image">
    <Label value="Text" background="#16a34a"/>
    <Label value="Handwriting" background="#2563eb"/>
  </Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image" editable="true" perRegion="true"
            required="true" maxSubmissions="1" rows="3" placeholder="Recognized text"
            displayMode="region-list"/>
</View>""",
    },
    {
        "key": "audio-transcription",
        "group": "Audio and speech",
        "title": "Audio transcription",
        "config": """<View>
  <Audio name="audio" value="$audio"/>
  <Header value="Transcribe the recording"/>
  <TextArea name="transcription" toName="audio" rows="3" editable="true" maxSubmissions="1"/>
</View>""",
    },
    {
        "key": "audio-classification",
        "group": "Audio and speech",
        "title": "Audio classification",
        "config": """<View>
  <Audio name="audio" value="$audio"/>
  <Choices name="kind" toName="audio" choice="single">
    <Choice value="Speech"/>
    <Choice value="Music"/>
    <Choice value="Noise"/>
  </Choices>
</View>""",
    },
    {
        "key": "video-tracking",
        "group": "Video",
        "title": "Video object tracking",
        "config": """<View>
  <Labels name="videoLabels" toName="video" allowEmpty="true">
    <Label value="Car" background="#2563eb"/>
    <Label value="Person" background="#ef4444"/>
  </Labels>
  <!-- framerate: your videos' frames per second (keyframes are counted in frames) -->
  <Video name="video" value="$video" framerate="25"/>
  <VideoRectangle name="box" toName="video"/>
</View>""",
    },
    {
        "key": "video-timeline",
        "group": "Video",
        "title": "Video timeline segmentation",
        "config": """<View>
  <Video name="video" value="$video" framerate="25" timelineHeight="120"/>
  <TimelineLabels name="events" toName="video">
    <Label value="Moving" background="#16a34a"/>
    <Label value="Still" background="#f59e0b"/>
  </TimelineLabels>
</View>""",
    },
    {
        "key": "pdf-classification",
        "group": "Documents",
        "title": "PDF classification",
        "config": """<View>
  <PDF name="pdf" value="$pdf"/>
  <Choices name="category" toName="pdf" choice="single" showInLine="true">
    <Choice value="Invoice"/>
    <Choice value="Contract"/>
    <Choice value="Letter"/>
  </Choices>
</View>""",
    },
    {
        "key": "custom",
        "group": "Other",
        "title": "Custom config",
        "config": """<View>
  <Text name="text" value="$text"/>
  <Choices name="label" toName="text">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
</View>""",
    },
]

TEMPLATES: list[dict] = [
    template
    for template in ALL_TEMPLATES
    if not editor_unsupported_tags(template["config"], editor=settings.LABELHUB_EDITOR)
]
BY_KEY = {template["key"]: template for template in TEMPLATES}
