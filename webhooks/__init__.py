"""Webhooks: Label Studio's subscriptions (``/api/webhooks/``) and the delivery of its
events, signed, from their own Celery queue. ``models`` (Webhook, WebhookAction),
``actions`` (the events and what each carries), ``services`` (writes, the event handler),
``payloads`` (Label Studio's shapes), ``delivery`` (one signed POST through the SSRF
guard), ``tasks`` (Celery), ``api``/``urls``."""
