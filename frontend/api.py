"""``GET /api/templates/``: the labeling config templates of the create-project page, in
Label Studio's ``{"templates": [...], "groups": [...]}`` shape, for any logged-in user."""

from rest_framework.response import Response
from rest_framework.views import APIView

from frontend.label_templates import TEMPLATES

TEMPLATE_LIST = {
    "templates": [
        {
            "title": template["title"],
            "type": "community",
            "group": template["group"],
            "image": "",
            "details": "",
            "config": template["config"],
            "key": template["key"],
        }
        for template in TEMPLATES
    ],
    "groups": list(dict.fromkeys(template["group"] for template in TEMPLATES)),
}


class TemplateListApi(APIView):
    def get(self, request):
        return Response(TEMPLATE_LIST)
