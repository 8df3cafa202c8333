"""Word and OpenDocument transcripts as a reader sees them (issue 14, points 1 and 3): tables
of speaker | text as turns, other tables as context never coded, content controls and text
boxes read once, headers, footers and comments left out and said so. Every file is made in
the test (python-docx, odfpy)."""

from __future__ import annotations

import docx
import pytest
from click.testing import CliRunner
from docx.oxml import parse_xml

from beicoder.cli import main
from beicoder.core.ingest import read_transcript

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (f'xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:v="urn:schemas-microsoft-com:vml"')


def turns(parsed):
    return [(t.speaker, t.role, parsed.text[t.start:t.end]) for t in parsed.turns]


def passages(parsed):
    """Each passage's text, checked to be its slice of the text inside an interviewee turn."""
    out = []
    for p in parsed.passages:
        turn = parsed.turns[p.turn_index]
        assert turn.role == "interviewee" and turn.start <= p.start < p.end <= turn.end
        out.append(parsed.text[p.start:p.end])
    return out


def fill_table(document, rows):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            lines = value.split("\n")
            cell.text = lines[0]
            for more in lines[1:]:
                cell.add_paragraph(more)
    return table


# ------------------------------------------------------------------------------------ .docx
ANSWER = "去年有个养猪户来贷款。\n客户说：我的猪场很大。\n我就去他家实地看了，还查了电费单。\n后来他按时还款了。"


def test_docx_speaker_text_table_is_turns(tmp_path):
    d = docx.Document()
    d.add_paragraph("访谈记录：客户经理 A01")
    fill_table(d, [["说话人", "内容"],
                   ["访谈者", "请讲一件你觉得做得好的事。"],
                   ["被访者", "去年有个养猪户来贷款。\n客户说：我的猪场很大。\n我就去他家实地看了，还查了电费单。"],
                   ["", "后来他按时还款了。"],  # a row without a speaker continues the previous one
                   ["访谈者：", "结果呢？"],
                   ["被访者", "我们一直保持联系。"]])
    path = tmp_path / "A01.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert parsed.warnings == ["read 1 speaker | text table as turns"]
    assert turns(parsed) == [
        ("", "other", "访谈记录：客户经理 A01"),
        ("访谈者", "interviewer", "请讲一件你觉得做得好的事。"),
        ("被访者", "interviewee", ANSWER),
        ("访谈者", "interviewer", "结果呢？"),
        ("被访者", "interviewee", "我们一直保持联系。")]
    assert passages(parsed) == [ANSWER, "我们一直保持联系。"]


def test_docx_table_with_a_time_column_keeps_the_times(tmp_path):
    d = docx.Document()
    fill_table(d, [["Time", "Speaker", "Text"],
                   ["00:00:05", "Interviewer", "What do you do?"],
                   ["00:00:09", "Respondent", "I run micro loans at a county branch."],
                   ["00:01:02", "Interviewer", "For how long?"],
                   ["00:01:04", "Respondent", "Six years."]])
    path = tmp_path / "en.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(9.0, 62.0), (64.0, None)]
    assert passages(parsed) == ["I run micro loans at a county branch.", "Six years."]


def test_docx_other_tables_are_context_never_coded(tmp_path):
    d = docx.Document()
    d.add_paragraph("访谈者：你怎么核实客户的经营情况？")
    d.add_paragraph("被访者：我先看他的账本，整理成这样一张表。")
    fill_table(d, [["项目", "金额"], ["饲料", "八万"], ["电费", "五千"], ["人工", "两万"], ["其他", "一万"]])
    d.add_paragraph("然后我拿表去跟他的银行流水对了一遍。")
    d.add_paragraph("访谈者：后来呢？")
    d.add_paragraph("被访者：后来就放款了。")
    path = tmp_path / "ctx.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert "饲料 | 八万" in parsed.text  # kept for reading
    assert parsed.warnings == ["kept 1 other table as context: in the text, not coded"]
    assert passages(parsed) == ["我先看他的账本，整理成这样一张表。", "然后我拿表去跟他的银行流水对了一遍。",
                                "后来就放款了。"]
    (context,) = [t for t in parsed.turns if t.role == "other"]
    assert parsed.text[context.start:context.end].startswith("项目 | 金额\n饲料 | 八万")


def _sdt_block(text):
    return parse_xml(f'<w:sdt {NS}><w:sdtPr><w:alias w:val="答案"/></w:sdtPr><w:sdtContent>'
                     f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:sdtContent></w:sdt>')


def _text_box_paragraph(text):
    box = f'<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>'
    return parse_xml(
        f'<w:p {NS}><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic>'
        f'<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx>'
        f'{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        f'<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>'
        f'</mc:AlternateContent></w:r></w:p>')


def test_docx_content_controls_and_text_boxes_are_read_once_headers_footers_comments_left_out(tmp_path):
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "页眉：机密"
    d.sections[0].footer.paragraphs[0].text = "第 1 页"
    d.add_paragraph("访谈者：你第一次核实流水是什么时候？")
    section = d.element.body.find(f"{{{W}}}sectPr")  # blocks go before the section properties, as in Word
    section.addprevious(_sdt_block("被访者：入行第二年，我查了一个客户半年的流水。"))
    section.addprevious(_text_box_paragraph("访谈者：你怎么发现不对的？"))
    commented = d.add_paragraph()
    run = commented.add_run("被访者：他每个月的进账都是月底一笔，像是临时转进来的。")
    d.add_comment(run, text="这里要追问", author="王老师")
    inline = d.add_paragraph()
    inline._p.append(parse_xml(f"<w:sdt {NS}><w:sdtContent><w:r><w:t>访谈者：后来呢？</w:t></w:r>"
                               "</w:sdtContent></w:sdt>"))
    d.add_paragraph("被访者：后来我就没批。")
    path = tmp_path / "rich.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert "页眉" not in parsed.text and "第 1 页" not in parsed.text and "追问" not in parsed.text
    assert parsed.text.count("你怎么发现不对的") == 1
    assert [t[2] for t in turns(parsed)] == ["你第一次核实流水是什么时候？", "入行第二年，我查了一个客户半年的流水。",
                                             "你怎么发现不对的？", "他每个月的进账都是月底一笔，像是临时转进来的。",
                                             "后来呢？", "后来我就没批。"]
    assert parsed.warnings == ["left out (not the interview's body text): 1 header, 1 footer, 1 comment"]


def test_docx_bold_label_line_with_a_time(tmp_path):
    d = docx.Document()
    for label, said in [("访谈者 00:00:05", "讲一件事？"), ("被访者 00:00:09", "我去核实了他的电费单。"),
                        ("访谈者 00:00:40", "然后呢？"), ("被访者 00:00:43", "然后就放款了。")]:
        d.add_paragraph().add_run(label).bold = True
        d.add_paragraph(said)
    path = tmp_path / "otter.docx"
    d.save(path)
    parsed = read_transcript(path)
    assert passages(parsed) == ["我去核实了他的电费单。", "然后就放款了。"]
    assert [(p.start_time, p.end_time) for p in parsed.passages] == [(9.0, 40.0), (43.0, None)]


# ------------------------------------------------------------------------------------- .odt
def _odt(path, build):
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, Header, MasterPage, PageLayout, Style, TextProperties

    doc = OpenDocumentText()
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    layout = PageLayout(name="pm1")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    from odf.text import P

    header, footer = Header(), Footer()
    header.addElement(P(text="页眉：内部资料"))
    footer.addElement(P(text="第一页"))
    master.addElement(header)
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    build(doc, bold)
    doc.save(str(path))
    return path


def test_odt_bold_labels_tables_and_left_out_parts(tmp_path):
    from odf.office import Annotation
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P, Span

    def para(doc, label, said, bold):
        p = P()
        if label:
            p.addElement(Span(stylename=bold, text=label))
        p.addText(said)
        doc.text.addElement(p)
        return p

    def table(doc, rows):
        t = Table(name=f"t{len(doc.text.childNodes)}")
        t.addElement(TableColumn(numbercolumnsrepeated=len(rows[0])))
        for row in rows:
            tr = TableRow()
            for value in row:
                cell = TableCell()
                for line in value.split("\n"):
                    cell.addElement(P(text=line))
                tr.addElement(cell)
            t.addElement(tr)
        doc.text.addElement(t)

    def build(doc, bold):
        para(doc, "王经理：", "我在县城支行做微贷，六年了。", bold)
        para(doc, "李记者：", "举个例子？", bold)
        note = para(doc, "王经理：", "有个养猪户来贷款，我去他家看了猪场。", bold)
        comment = Annotation()
        comment.addElement(P(text="这里要追问"))
        note.addElement(comment)
        table(doc, [["项目", "金额"], ["饲料", "八万"], ["电费", "五千"], ["人工", "两万"], ["其他", "一万"]])
        table(doc, [["李记者", "后来呢？"], ["王经理", "后来他按时还款了。\n我们一直有联系。"]])

    path = _odt(tmp_path / "A02.odt", build)
    parsed = read_transcript(path)
    assert parsed.encoding == "odt" and parsed.interviewee_speaker == "王经理"
    assert "页眉" not in parsed.text and "第一页" not in parsed.text and "追问" not in parsed.text
    assert parsed.warnings == ["left out (not the interview's body text): 1 header, 1 footer, 1 comment",
                               "read 1 speaker | text table as turns",
                               "kept 1 other table as context: in the text, not coded"]
    assert passages(parsed) == ["我在县城支行做微贷，六年了。", "有个养猪户来贷款，我去他家看了猪场。",
                                "后来他按时还款了。\n我们一直有联系。"]
    assert [t[:2] for t in turns(parsed)] == [("王经理", "interviewee"), ("李记者", "interviewer"),
                                             ("王经理", "interviewee"), ("", "other"), ("李记者", "interviewer"),
                                             ("王经理", "interviewee")]


def test_broken_odt_is_one_line(tmp_path):
    from beicoder.core.ingest import ImportProblem

    path = tmp_path / "bad.odt"
    path.write_bytes(b"PK not really")
    with pytest.raises(ImportProblem) as err:
        read_transcript(path)
    assert str(err.value).startswith(f"{path}: not a readable .odt file") and "\n" not in str(err.value)


def test_qualcoders_id2_odt_imports(tmp_path, realdata):
    db = tmp_path / "s.db"
    result = CliRunner().invoke(main, ["import", str(realdata / "qualcoder-examples" / "ID2.odt"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "imported ID2.odt: interviewee ID2, 3 passages (odt, en)" in result.stdout


def test_pseudonymised_docx_keeps_its_tables_out_of_the_passages(tmp_path):
    from beicoder.core.importing import import_files
    from beicoder.core.store import Store

    d = docx.Document()
    d.add_paragraph("访谈者：王建国经理，你怎么核实？")
    d.add_paragraph("被访者：我叫王建国，我先看账本，整理成表。")
    fill_table(d, [["项目", "经手人"], ["饲料", "王建国"], ["电费", "李华"], ["人工", "王建国"], ["其他", "李华"]])
    d.add_paragraph("然后王建国我拿表去对了流水。")
    path = tmp_path / "A03.docx"
    d.save(path)
    names = tmp_path / "names.csv"
    names.write_text("name,pseudonym\n王建国,P01\n李华,P02\n", encoding="utf-8")
    report = import_files(tmp_path / "s.db", [path], names_path=names)
    assert report.files[0].status == "imported"
    assert "kept 1 other table as context: in the text, not coded" in report.files[0].warnings
    with Store(tmp_path / "s.db", create=False) as store:
        (t,) = store.transcripts()
        text = store.transcript_text(t["id"])
        assert "王建国" not in text and "饲料 | P01" in text
        assert [p.text for p in store.passages(t["id"])] == ["我叫P01，我先看账本，整理成表。",
                                                             "然后P01我拿表去对了流水。"]


def test_tables_of_figures_are_not_turns(tmp_path):
    from beicoder.core.documents import Table, _speaker_table

    assert _speaker_table(Table([["年份", "金额"], ["2022", "八万"], ["2022", "五千"], ["2023", "两万"]]), None) is None
    assert _speaker_table(Table([["饲料", "八万"], ["电费", "五千"], ["人工", "两万"]]), None) is None
    assert _speaker_table(Table([["王经理", "好"], ["王经理", "行"], ["李记者", "是"]]), None) is None
    focus = [["主持人", "大家说说看？"]] + [[f"学员{k}", f"我觉得第{k}个办法好。"] for k in range(1, 7)] * 2
    assert [r[0] for r in _speaker_table(Table(focus), None)][:3] == ["主持人", "学员1", "学员2"]
