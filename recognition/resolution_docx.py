"""The model resolution as a Word file (.docx), from the same text as its page (recognition/resolution_text).

Plain, as a clerk would type it: US Letter, one-inch margins, Times New Roman 12 pt, the opening words of
each clause in bold, the [bracketed] parts highlighted so none is left unedited. The notes for the
sponsor (the bills' date, the CC0 dedication) follow the signatures, under a heading saying to delete
them before filing.
"""

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.shared import Inches, Pt

from .resolution_text import lead, parts

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SIGNATURE_LINE = "_" * 36


def _runs(paragraph, text, bold=False):
    for words, placeholder in parts(text):
        run = paragraph.add_run(words)
        run.bold = bold or None
        if placeholder:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _clause(document, text, align=None, bold=False, space_after=12):
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(space_after)
    if align is not None:
        paragraph.alignment = align
    opening, rest = lead(text)
    if opening:
        _runs(paragraph, opening, bold=True)
    _runs(paragraph, rest, bold=bold)
    return paragraph


def build(text, place):
    """The .docx bytes of a ModelResolution; `place` names it in the file's properties."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.left_margin = section.right_margin = Inches(1)
    section.top_margin = section.bottom_margin = Inches(1)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    properties = document.core_properties
    properties.title = f"Model resolution: {place}"
    properties.subject = "Recognizing public safety telecommunicators as first responders"
    properties.author = "Dispatcher Recognition Tracker"
    properties.comments = text.notice

    _clause(document, text.heading, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    _clause(document, text.title, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, space_after=18)
    for clause in (*text.whereas, *text.resolved):
        _clause(document, clause)
    _clause(document, text.adopted, space_after=30)
    for signature in text.signatures:
        block = document.add_paragraph()
        block.paragraph_format.space_after = Pt(24)
        block.paragraph_format.keep_together = True
        if signature.attest:
            block.add_run("Attest:").add_break()
        block.add_run(SIGNATURE_LINE).add_break()
        _runs(block, signature.label)

    notes = document.add_paragraph()
    notes.paragraph_format.space_before = Pt(24)
    notes.paragraph_format.page_break_before = True
    notes.add_run("Notes for the sponsor (delete this page before filing)").bold = True
    for note in (
        "Edit every part in [brackets]: the name of the body, the resolution's number, the officers' titles.",
        text.bills_as_of,
        text.notice,
    ):
        document.add_paragraph(note, style="List Bullet")

    out = BytesIO()
    document.save(out)
    return out.getvalue()
