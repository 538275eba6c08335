"""Tests for projects.label_config: parsing, security, and result validation.

Pure Python (no Django): ``pytest tests/projects/test_label_config.py -p no:django``.
"""

from __future__ import annotations

import json
import time

import pytest

from projects.label_config import (
    DTD_MESSAGE,
    MAX_CONFIG_CHARS,
    LabelConfigError,
    ParsedConfig,
    data_keys_for_object_types,
    ls_parsed_label_config,
    parse_label_config,
    single_data_key,
)
from projects.results import validate_result

# --------------------------------------------------------------------------- configs
# Taken from (or modelled on) the templates at https://labelstud.io/templates.

TEXT_CLASSIFICATION = """
<View>
  <Text name="text" value="$text"/>
  <View style="box-shadow: 2px 2px 5px #999; padding: 20px;">
    <Header value="Choose text sentiment:"/>
    <Choices name="sentiment" toName="text" choice="single" showInLine="true">
      <Choice value="Positive"/>
      <Choice value="Negative"/>
      <Choice value="Neutral"/>
    </Choices>
  </View>
</View>
"""

NER = """
<View>
  <Relations>
    <Relation value="works_for"/>
  </Relations>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="Location" alias="LOC" background="orange"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>
"""

IMAGE_CLASSIFICATION = """
<View>
  <Image name="image" value="$image"/>
  <Choices name="choice" toName="image">
    <Choice value="Adult content"/>
    <Choice value="Weapons" />
    <Choice value="Violence" />
  </Choices>
</View>
"""

BBOX = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue"/>
  </RectangleLabels>
</View>
"""

TOOLS_WITHOUT_LABELS = """
<View>
  <Image name="image" value="$image" zoom="true"/>
  <Labels name="label" toName="image">
    <Label value="Tree"/>
    <Label value="Rock"/>
  </Labels>
  <Rectangle name="rect" toName="image"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <Ellipse name="ellipse" toName="image"/>
  <KeyPoint name="kp" toName="image"/>
  <Brush name="brush" toName="image"/>
</View>
"""

OCR = """
<View>
  <Image name="image" value="$ocr"/>
  <Labels name="label" toName="image">
    <Label value="Text" background="green"/>
    <Label value="Handwriting" background="blue"/>
  </Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image" editable="true" perRegion="true"
            required="true" maxSubmissions="1" rows="5" placeholder="Recognized Text"
            displayMode="region-list"/>
</View>
"""

AUDIO_TRANSCRIPTION = """
<View>
  <Header value="Listen to the audio"/>
  <Audio name="audio" value="$audio"/>
  <Header value="Write the transcription"/>
  <TextArea name="transcription" toName="audio" rows="4" editable="true"
            maxSubmissions="1"/>
</View>
"""

AUDIO_SEGMENTS = """
<View>
  <Labels name="speaker" toName="audio">
    <Label value="Speaker 1"/>
    <Label value="Speaker 2"/>
  </Labels>
  <AudioPlus name="audio" value="$url"/>
</View>
"""

EVERYTHING_ELSE = """
<View>
  <Text name="question" value="$question"/>
  <Rating name="stars" toName="question" maxRating="10"/>
  <Number name="score" toName="question" min="0" max="100"/>
  <DateTime name="when" toName="question" only="date"/>
  <Taxonomy name="taxonomy" toName="question">
    <Choice value="Archaea"/>
    <Choice value="Eukarya">
      <Choice value="Human"/>
      <Choice value="Opossum"/>
    </Choice>
  </Taxonomy>
  <Choices name="tags" toName="question" value="$options" choice="multiple"/>
  <Text name="left" value="$answer_a"/>
  <Text name="right" value="$answer_b"/>
  <Pairwise name="compare" toName="left,right"/>
  <List name="results" value="$items" title="Search results"/>
  <Ranker name="rank" toName="results"/>
</View>
"""

VIDEO_TRACKING = """
<View>
  <Labels name="videoLabels" toName="video" allowEmpty="true">
    <Label value="Man" background="blue"/>
    <Label value="Woman" background="red"/>
  </Labels>
  <Video name="video" value="$video" framerate="25.0"/>
  <VideoRectangle name="box" toName="video"/>
  <TimelineLabels name="timeline" toName="video">
    <Label value="Walking"/>
  </TimelineLabels>
</View>
"""

SPANS = """
<View>
  <HyperText name="html" value="$html"/>
  <HyperTextLabels name="ht" toName="html"><Label value="Title"/></HyperTextLabels>
  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue"/>
  <ParagraphLabels name="pl" toName="dialogue"><Label value="Greeting"/></ParagraphLabels>
  <TimeSeries name="ts" valueType="url" value="$csv" timeColumn="time">
    <Channel column="velocity"/>
  </TimeSeries>
  <TimeSeriesLabels name="tsl" toName="ts"><Label value="Run"/></TimeSeriesLabels>
  <Image name="img" value="$img"/>
  <BrushLabels name="mask" toName="img"><Label value="Sky"/></BrushLabels>
</View>
"""

IMAGE_GROUP = """
<View>
  <Image name="pages" valueList="$images"/>
  <RectangleLabels name="box" toName="pages"><Label value="Signature"/></RectangleLabels>
</View>
"""

REPEATER = """
<View>
  <Repeater on="$images" indexFlag="{{idx}}">
    <Image name="page_{{idx}}" value="$images[{{idx}}].url"/>
    <RectangleLabels name="labels_{{idx}}" toName="page_{{idx}}">
      <Label value="Stamp"/>
    </RectangleLabels>
  </Repeater>
</View>
"""

ALL_CONFIGS = [
    TEXT_CLASSIFICATION,
    NER,
    IMAGE_CLASSIFICATION,
    BBOX,
    TOOLS_WITHOUT_LABELS,
    OCR,
    AUDIO_TRANSCRIPTION,
    AUDIO_SEGMENTS,
    EVERYTHING_ELSE,
    VIDEO_TRACKING,
    SPANS,
    IMAGE_GROUP,
    REPEATER,
]
ALL_CONFIG_IDS = [
    "text-classification",
    "ner",
    "image-classification",
    "bbox",
    "tools-without-labels",
    "ocr",
    "audio-transcription",
    "audio-segments",
    "everything-else",
    "video-tracking",
    "spans",
    "image-group",
    "repeater",
]


def problems(config: str, result: object, **kwargs: object) -> list[str]:
    return [e.problem for e in validate_result(parse_label_config(config), result, **kwargs)]


def region(from_name: str, to_name: str, type_: str, value: dict, **extra: object) -> dict:
    return {"from_name": from_name, "to_name": to_name, "type": type_, "value": value, **extra}


def config_error(xml: str) -> str:
    with pytest.raises(LabelConfigError) as info:
        parse_label_config(xml)
    return str(info.value)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=ALL_CONFIG_IDS)
def test_docs_configs_parse_and_round_trip_through_json(config: str) -> None:
    parsed = parse_label_config(config)

    restored = ParsedConfig.from_dict(json.loads(json.dumps(parsed.to_dict())))

    assert restored == parsed


def test_text_classification_shape() -> None:
    parsed = parse_label_config(TEXT_CLASSIFICATION)

    assert parsed.data_keys == ["text"]
    assert parsed.objects["text"]["type"] == "Text"
    assert parsed.objects["text"]["value"] == "text"
    control = parsed.controls["sentiment"]
    assert control["type"] == "Choices"
    assert control["to_name"] == ["text"]
    assert control["inputs"] == [{"type": "Text", "value": "text"}]
    assert control["labels"] == ["Positive", "Negative", "Neutral"]
    assert control["labels_attrs"]["Neutral"] == {"value": "Neutral"}
    assert control["choice"] == "single"
    assert control["dynamic"] is False
    assert "paths" not in control
    assert parsed.unknown_tags == []


def test_ner_labels_aliases_and_relations() -> None:
    parsed = parse_label_config(NER)

    assert parsed.controls["label"]["labels"] == ["PER", "ORG", "LOC"]
    assert parsed.controls["label"]["labels_attrs"]["LOC"]["value"] == "Location"
    assert parsed.relation_labels == ["works_for"]
    assert "Relations" not in {c["type"] for c in parsed.controls.values()}


def test_ocr_per_region_textarea() -> None:
    parsed = parse_label_config(OCR)

    textarea = parsed.controls["transcription"]
    assert textarea["type"] == "TextArea"
    assert textarea["per_region"] is True
    assert textarea["required"] is True
    assert textarea["attrs"]["maxSubmissions"] == "1"
    assert parsed.data_keys == ["ocr"]
    assert single_data_key(parsed) == "ocr"


def test_data_keys_in_order_and_unique_including_dynamic_options() -> None:
    parsed = parse_label_config(EVERYTHING_ELSE)

    assert parsed.data_keys == ["question", "options", "answer_a", "answer_b", "items"]
    assert parsed.controls["tags"]["dynamic"] is True
    assert parsed.controls["tags"]["labels"] == []
    assert single_data_key(parsed) is None


def test_taxonomy_labels_are_flat_and_paths_are_nested() -> None:
    control = parse_label_config(EVERYTHING_ELSE).controls["taxonomy"]

    assert control["labels"] == ["Archaea", "Eukarya", "Human", "Opossum"]
    assert control["paths"] == [
        ["Archaea"],
        ["Eukarya"],
        ["Eukarya", "Human"],
        ["Eukarya", "Opossum"],
    ]


def test_pairwise_and_ranker() -> None:
    parsed = parse_label_config(EVERYTHING_ELSE)

    assert parsed.controls["compare"]["to_name"] == ["left", "right"]
    assert parsed.objects["results"] == {
        "type": "List",
        "value": "items",
        "value_list": False,
        "expression": "$items",
        "attrs": {"name": "results", "value": "$items", "title": "Search results"},
    }


def test_image_group_value_list_is_the_data_key() -> None:
    parsed = parse_label_config(IMAGE_GROUP)

    assert parsed.data_keys == ["images"]
    assert parsed.objects["pages"]["value_list"] is True
    assert ls_parsed_label_config(parsed)["box"]["inputs"] == [
        {"type": "Image", "valueType": None, "valueList": "images"}
    ]


def test_time_series_channels_are_not_data_keys() -> None:
    parsed = parse_label_config(SPANS)

    assert parsed.data_keys == ["html", "dialogue", "csv", "img"]
    assert parsed.objects["ts"]["attrs"]["valueType"] == "url"


def test_repeater_keys_use_the_top_level_field() -> None:
    parsed = parse_label_config(REPEATER)

    assert parsed.data_keys == ["images"]
    assert parsed.objects["page_{{idx}}"]["value"] == "images"


def test_data_keys_for_object_types() -> None:
    parsed = parse_label_config(SPANS)

    assert data_keys_for_object_types(parsed, types={"Image"}) == ["img"]
    assert data_keys_for_object_types(parsed, types={"hypertext", "paragraphs"}) == [
        "html",
        "dialogue",
    ]
    assert data_keys_for_object_types(parsed, types={"Audio"}) == []


def test_ls_parsed_label_config_shape() -> None:
    parsed = parse_label_config(EVERYTHING_ELSE)

    ls = ls_parsed_label_config(parsed)

    assert ls["stars"] == {
        "type": "Rating",
        "to_name": ["question"],
        "inputs": [{"type": "Text", "valueType": None, "value": "question"}],
        "labels": [],
        "labels_attrs": {},
    }
    assert ls["tags"]["dynamic_labels"] is True
    assert set(ls) == set(parsed.controls)


def test_ls_parsed_label_config_conditionals() -> None:
    parsed = parse_label_config(
        """<View><Image name="img" value="$img"/>
        <Labels name="lbl" toName="img"><Label value="Car"/></Labels>
        <Choices name="color" toName="img" perRegion="true" whenLabelValue="Car">
          <Choice value="Red"/></Choices></View>"""
    )

    assert ls_parsed_label_config(parsed)["color"]["conditionals"] == {
        "type": "label",
        "name": "Car",
    }


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=ALL_CONFIG_IDS)
def test_matches_label_studio_parse_config(config: str) -> None:
    """Our LS-shaped output equals label-studio-sdk's own parse_config, where it is installed."""
    sdk = pytest.importorskip("label_studio_sdk._extensions.label_studio_tools.core.label_config")
    theirs = sdk.parse_config(config)
    ours = ls_parsed_label_config(parse_label_config(config))
    for info in theirs.values():
        info.pop("regex", None)  # Repeater name patterns; we match those in validate_result

    assert ours == theirs


def test_unknown_tags_are_reported_and_read_like_label_studio_does() -> None:
    parsed = parse_label_config(
        """<View><Text name="t" value="$t"/><Sparkle name="s" toName="t"/></View>"""
    )

    assert parsed.unknown_tags == ["Sparkle"]
    assert parsed.controls["s"]["to_name"] == ["t"]


def test_filter_to_name_points_at_a_control_and_is_fine() -> None:
    parse_label_config(
        """<View><Image name="img" value="$img"/>
        <Filter name="f" toName="lbl" minlength="0"/>
        <RectangleLabels name="lbl" toName="img"><Label value="A"/></RectangleLabels></View>"""
    )


def test_xml_declaration_bom_and_comments_are_accepted() -> None:
    parsed = parse_label_config(
        '\ufeff<?xml version="1.0" encoding="UTF-8"?>\n<!-- a note -->'
        '<View><Text name="t" value="$t"/></View>'
    )

    assert parsed.data_keys == ["t"]


def test_from_dict_refuses_another_version() -> None:
    data = parse_label_config(TEXT_CLASSIFICATION).to_dict()
    data["version"] = 0

    with pytest.raises(ValueError, match="parse the config again"):
        ParsedConfig.from_dict(data)


def test_empty_view_is_a_valid_config() -> None:
    parsed = parse_label_config("<View></View>")

    assert (parsed.data_keys, parsed.objects, parsed.controls) == ([], {}, {})


# --------------------------------------------------------------------------- security

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Header value="&lol9;"/><Text name="t" value="$t"/></View>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Header value="&xxe;"/><Text name="t" value="$t"/></View>"""

XXE_PARAMETER = """<!DOCTYPE View [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<View/>"""


@pytest.mark.parametrize(
    "payload",
    [
        BILLION_LAUGHS,
        XXE,
        XXE_PARAMETER,
        '<!DOCTYPE View SYSTEM "file:///etc/passwd"><View/>',
        "<!doctype View><View/>",
        "<View><!ENTITY x 'y'></View>",
    ],
    ids=["billion-laughs", "xxe", "xxe-parameter", "external-dtd", "lowercase", "entity-only"],
)
def test_dtds_and_entities_are_refused_fast(payload: str) -> None:
    started = time.perf_counter()

    message = config_error(payload)

    assert time.perf_counter() - started < 0.5
    assert message == DTD_MESSAGE
    assert "root:" not in message


def test_xinclude_is_not_processed() -> None:
    payload = (
        '<View xmlns:xi="http://www.w3.org/2001/XInclude">'
        '<xi:include href="file:///etc/passwd" parse="text"/></View>'
    )

    message = config_error(payload)

    assert message == "namespaced tag {http://www.w3.org/2001/XInclude}include is not allowed"


def test_undeclared_entity_is_a_syntax_error_not_a_lookup() -> None:
    message = config_error('<View><Header value="&xxe;"/></View>')

    assert message.startswith("Invalid XML at line 1")


def test_oversized_config_is_refused() -> None:
    big = "<View>" + " " * MAX_CONFIG_CHARS + "</View>"

    assert "longer than" in config_error(big)


def test_deep_nesting_hits_the_parser_limit() -> None:
    deep = "<View>" * 5000 + "</View>" * 5000

    assert config_error(deep).startswith("Invalid XML")


@pytest.mark.parametrize("payload", ["", "   ", None, b"<View/>"])
def test_empty_or_non_string_config(payload: object) -> None:
    with pytest.raises(LabelConfigError):
        parse_label_config(payload)  # type: ignore[arg-type]


def test_nul_character_is_invalid_xml() -> None:
    assert config_error("<View>\x00</View>").startswith("Invalid XML")


# --------------------------------------------------------------------------- invalid configs


def test_malformed_xml_reports_line_and_column() -> None:
    message = config_error('<View>\n  <Text name="t" value="$t">\n</View>')

    assert message.startswith("Invalid XML at line 3, column 8:")
    assert "mismatch" in message


def test_wrong_root() -> None:
    assert config_error('<Text name="t" value="$t"/>') == "the root tag must be <View>, not <Text>"


def test_missing_to_name() -> None:
    message = config_error(
        """<View><Text name="t" value="$t"/>
        <Choices name="sentiment"><Choice value="A"/></Choices></View>"""
    )

    assert message == 'Choices "sentiment": needs a "toName" attribute naming the object it labels'


def test_to_name_pointing_at_nothing() -> None:
    message = config_error(
        """<View><Text name="text" value="$text"/>
        <Choices name="sentiment" toName="txt"><Choice value="A"/></Choices></View>"""
    )

    assert message == 'Choices "sentiment": toName "txt" is not an object tag in this config'


def test_to_name_pointing_at_a_control() -> None:
    message = config_error(
        """<View><Text name="text" value="$text"/>
        <Labels name="lbl" toName="text"><Label value="A"/></Labels>
        <TextArea name="notes" toName="lbl"/></View>"""
    )

    assert message == 'TextArea "notes": toName "lbl" is not an object tag in this config'


def test_one_of_several_to_names_missing() -> None:
    message = config_error(
        """<View><Text name="a" value="$a"/>
        <Choices name="c" toName="a,b"><Choice value="X"/></Choices></View>"""
    )

    assert message == 'Choices "c": toName "b" is not an object tag in this config'


def test_duplicate_names() -> None:
    message = config_error(
        """<View><Text name="text" value="$text"/>
        <Choices name="text" toName="text"><Choice value="A"/></Choices></View>"""
    )

    assert message == 'name "text" is used by more than one tag (Text and Choices)'


def test_value_without_dollar_is_shown_as_written() -> None:
    """Label Studio takes ``<Text value="pdf"/>`` (its data_export tavern file does): an
    object that shows its literal value and reads no task data. A ``$`` that names no
    field stays an error."""
    parsed = parse_label_config(
        '<View><Text value="pdf" name="pdf"/>'
        '<DateTime name="publication_date" toName="pdf" only="date"/></View>'
    )
    assert parsed.objects["pdf"]["value"] is None and parsed.data_keys == []
    assert parsed.controls["publication_date"]["to_name"] == ["pdf"]
    message = config_error('<View><Image name="img" value="$"/></View>')
    assert message == 'Image "img": value "$" must name a task data field, like "$text"'


def test_object_without_name_or_value() -> None:
    message = config_error('<View><Text value="$t"/>\n<Image name="img"/></View>')

    assert message.splitlines() == [
        'Text (line 1): needs a "name" attribute',
        'Image "img": needs a "value" attribute like value="$text"',
    ]


def test_choices_without_options() -> None:
    message = config_error('<View><Text name="t" value="$t"/><Choices name="c" toName="t"/></View>')

    assert message == 'Choices "c": has no options and no value="$field" to load them'


def test_option_without_value() -> None:
    message = config_error(
        '<View><Text name="t" value="$t"/>'
        '<Labels name="l" toName="t"><Label/><Label value="A"/></Labels></View>'
    )

    assert message == 'Label (line 1): needs a "value" attribute'


def test_pairwise_needs_two_objects() -> None:
    message = config_error(
        '<View><Text name="a" value="$a"/><Pairwise name="p" toName="a"/></View>'
    )

    assert message == 'Pairwise "p": toName must name exactly two object tags'


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(LabelConfigError) as info:
        parse_label_config(
            """<View><Text name="t" value="$"/>
            <Choices name="c" toName="missing"><Choice value="A"/></Choices>
            <Rating name="c" toName="t"/></View>"""
        )

    assert info.value.errors == [
        'Text "t": value "$" must name a task data field, like "$text"',
        'name "c" is used by more than one tag (Choices and Rating)',
        'Rating "c": toName "t" is not an object tag in this config',
    ]
