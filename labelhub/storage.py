"""The media storage in the bucket (``S3_*`` set): django-storages' S3Storage, with
uploaded HTML and SVG stored as inert downloads.

Those two can run script when opened straight from the bucket's origin, so their objects
carry ``Content-Type: text/plain`` and ``Content-Disposition: attachment``; LabelHub
itself serves them to members through ``/data/upload/`` with the sandbox CSP instead of
redirecting to the bucket.
"""

import boto3
from botocore.config import Config
from django.conf import settings
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from labelhub.content import is_active_content


class MediaS3Storage(S3Storage):
    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        if is_active_content(name):
            params.update(ContentType="text/plain; charset=utf-8", ContentDisposition="attachment")
        return params

    def url(self, name, parameters=None, expire=None, http_method=None):
        """Presigned URLs for browsers: signed for ``S3_PUBLIC_ENDPOINT_URL`` when the
        server reaches the bucket at another address than browsers do (compose's
        ``http://s3:9000``); SigV4 signs the host, so the URL must be made for it."""
        public = getattr(settings, "S3_PUBLIC_ENDPOINT_URL", "")
        if not public:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        if getattr(self, "_public_client", None) is None:
            self._public_client = boto3.client(
                "s3",
                endpoint_url=public,
                region_name=self.region_name,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        params = {"Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name))}
        params.update(parameters or {})
        return self._public_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expire or self.querystring_expire
        )
