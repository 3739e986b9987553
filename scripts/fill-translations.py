"""Fill unfinished entries of the Chinese .ts from a table (for strings added after the last
translation pass). Usage: .venv/bin/python scripts/fill-translations.py '{"English": "中文"}'"""
import json
import sys
import xml.etree.ElementTree as ET

PATH = "resources/i18n/cityops_zh_CN.ts"
table = json.loads(sys.argv[1])
tree = ET.parse(PATH)
missing = []
for context in tree.getroot().findall("context"):
    for message in context.findall("message"):
        translation = message.find("translation")
        if translation.get("type") == "unfinished":
            source = message.find("source").text
            if source in table:
                translation.text = table[source]
                del translation.attrib["type"]
            else:
                missing.append(f"{context.find('name').text}: {source}")
tree.write(PATH, encoding="utf-8", xml_declaration=True)
with open(PATH, encoding="utf-8") as fh:
    text = fh.read().replace("<?xml version='1.0' encoding='utf-8'?>",
                             '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>', 1)
with open(PATH, "w", encoding="utf-8") as fh:
    fh.write(text)
print("still unfinished:", missing or "none")
