"""{% skeleton_definition %}: the skeleton static/formtrack/skeleton.js draws, in the page."""

from django import template
from django.utils.html import json_script

from tracking.pose.skeleton import definition

register = template.Library()


@register.simple_tag
def skeleton_definition():
    return json_script(definition(), "formtrack-skeleton")
