"""The local-LLM suggester against a real HTTP server on 127.0.0.1 (tests/llm_server.py) that
implements POST /v1/chat/completions and replays scripted replies: a good reply, a
hallucinated quote, an unknown code, a level out of range, malformed JSON, a timeout, a 500,
a slow reply while the coder keeps coding, the cache hit on a rerun, a remote host refused.
No model is needed, and nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from beicoder.cli import main
from beicoder.core.store import SCHEMA_VERSION, Store
from beicoder.core.suggest.llm import (
    BLEND_RULE,
    Example,
    ExamplePool,
    Item,
    LlmConfig,
    LlmError,
    Prompt,
    check_endpoint,
    detect_language,
    load_config,
    locate_quote,
    suggest_study_llm,
    verify_reply,
    with_llm,
)
from conftest import TUI_MC01, TUI_MC02, bundled_dictionary, make_study
from llm_server import Reply, ScriptedLLM, codes_reply, passage_of

P_ACH = "那年我给自己定了目标，要超额完成任务，最后拿了全行第一名。"
P_INFO = "我去他店里看了水电费单子，又查了他的银行流水，算了算现金流。"
P_NONE = "后来就按正常流程办完了。"
P_IU = "我看出来他有顾虑，说话很犹豫。"
P_CSO = "我坐下来替他算了一份还款计划。"

GOOD = {
    P_ACH: {"code": "ACH", "level": 5, "evidence": ["给自己定了目标", "拿了全行第一名"],
            "reason": "a stretch goal, met"},
    P_INFO: {"code": "INFO", "level": 3, "evidence": ["看了水电费单子", "查了他的银行流水"],
             "reason": "checks sources"},
    P_IU: {"code": "IU", "level": 2, "evidence": ["我看出来他有顾虑"], "reason": "reads the customer"},
    P_CSO: {"code": "CSO", "level": 3, "evidence": ["替他算了一份还款计划"], "reason": "a plan for the customer"},
}


def good(body, _n) -> Reply:
    """The model a careful coder would like: the right code, a level, verbatim quotes."""
    entry = GOOD.get(passage_of(body))
    return codes_reply(entry) if entry else codes_reply()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return make_study(tmp_path, {"MC01": TUI_MC01, "MC02": TUI_MC02}, {"MC01": "outstanding", "MC02": "average"})


def config(llm: ScriptedLLM, **kw) -> LlmConfig:
    return LlmConfig(**{"url": llm.url, "model": "scripted-7b", "timeout": 5.0, "backoff": 0.01, **kw})


def ids_by_text(db: Path) -> dict[str, int]:
    store = Store(db)
    try:
        return {p.text: p.id for p in store.passages()}
    finally:
        store.close()


def q(db: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# -- the endpoint: private by default ---------------------------------------------------------------
def test_loopback_and_private_hosts_are_accepted_and_remote_ones_refused():
    assert check_endpoint("http://127.0.0.1:11434").url == "http://127.0.0.1:11434/v1"
    assert check_endpoint("http://localhost:8080/v1/").host == "localhost:8080"
    assert check_endpoint("http://[::1]:8080/v1").private
    assert check_endpoint("http://192.168.1.20:11434/v1").private
    assert check_endpoint("http://10.0.0.7/v1").host == "10.0.0.7:80"
    for remote in ("http://8.8.8.8:11434/v1", "https://203.0.113.9/v1", "http://[2001:4860:4860::8888]/v1"):
        with pytest.raises(LlmError, match="unless you give --allow-remote"):
            check_endpoint(remote)
    assert not check_endpoint("http://8.8.8.8:11434/v1", allow_remote=True).private
    for bad in ("", "ftp://127.0.0.1/v1", "127.0.0.1:11434", "http://127.0.0.1:99999/v1"):
        with pytest.raises(LlmError):
            check_endpoint(bad)


def test_a_remote_host_is_refused_without_allow_remote(study):
    before = q(study, "SELECT count(*) FROM suggestions")
    result = run_cli("suggest", "--db", study, "--llm", "http://8.8.8.8:11434/v1", "--llm-model", "m")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "8.8.8.8" in lines[0] and "--allow-remote" in lines[0]
    assert q(study, "SELECT count(*) FROM suggestions") == before  # refused before any work
    assert q(study, "SELECT count(*) FROM llm_hosts") == [(0,)]
    result = run_cli("suggest", "--db", study, "--llm-model", "m")
    assert result.exit_code == 2 and "go with --llm URL" in result.stderr
    result = run_cli("suggest", "--db", study, "--llm", "http://127.0.0.1:1/v1")
    assert result.exit_code == 2 and "needs --llm-model" in result.stderr


def test_no_key_organisation_or_proxy_from_the_environment_reaches_the_local_server(study, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-must-not-leak")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-must-not-leak")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://8.8.8.8/v1")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://8.8.8.8:3128")  # were it used, no request would arrive
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with ScriptedLLM(good) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm))
        store.close()
    assert run.ok == 5 and len(llm.requests) == 5
    sent = " ".join(f"{k}: {v}" for h in llm.headers for k, v in h.items())
    assert "must-not-leak" not in sent and "8.8.8.8" not in sent
    assert {h["authorization"] for h in llm.headers} == {"Bearer beicoder-local"}


# -- pure parts: language, quotes, verification, prompt, config ------------------------------------------
def test_language_is_detected_by_script():
    assert detect_language(P_ACH) == "zh-Hans"
    assert detect_language("那年我給自己定了目標，要超額完成任務，最後拿了全行第一名。") == "zh-Hant"
    assert detect_language("I set myself a target and met it within three months.") == "en"


def test_quotes_are_found_after_folding_script_width_and_punctuation():
    passage = "那年我給自己定了目標，要超額完成任務；２０２３年拿了全行第一名！"
    start, end = locate_quote("给自己定了目标要超额完成任务", passage)  # Simplified, commas dropped
    assert passage[start:end] == "給自己定了目標，要超額完成任務"
    start, end = locate_quote("2023年拿了全行第一名。", passage)  # ASCII digits, other punctuation
    assert passage[start:end] == "２０２３年拿了全行第一名"
    assert locate_quote("拿了全省第一名", passage) is None
    assert locate_quote("，", passage) is None and locate_quote("年", passage) is None  # too short to count


def test_verification_drops_and_counts_what_is_not_in_the_passage_or_the_dictionary():
    d = bundled_dictionary()
    reply = json.dumps({"codes": [
        {"code": "ACH", "level": 5, "evidence": ["给自己定了目标", "我连续三年都是第一"], "reason": "r"},
        {"code": "XYZ", "level": 2, "evidence": ["超额完成任务"], "reason": "r"},
        {"code": "INFO", "level": 9, "evidence": ["超额完成任务"], "reason": "r"},
        {"code": "EXP", "level": 2, "evidence": ["我算了他的现金流"], "reason": "r"},
    ]}, ensure_ascii=False)
    v = verify_reply(reply, P_ACH, d)
    assert [r["code"] for r in v.rows] == ["ACH"]
    ach = v.rows[0]
    assert ach["score"] == 0.5 and ach["level"] == 5
    assert [(e["start"], e["end"], e["matched"]) for e in ach["evidence"]] == [(3, 10, "给自己定了目标")]
    assert dict(v.dropped) == {"quote_not_in_passage": 2, "unknown_code": 1, "level_out_of_range": 1,
                               "no_evidence": 1}
    assert verify_reply('```json\n{"codes": []}\n```', P_ACH, d).rows == []


def test_the_prompt_carries_the_dictionary_in_the_transcripts_language_and_similar_passages():
    d = bundled_dictionary()
    pool = ExamplePool([
        Example("我去他家看了电费单，又查了银行流水。", (("INFO", 3),), "coder", 1),
        Example("我给自己定了每月十户的目标。", (("ACH", 3),), "coder", 2),
        Example(P_INFO, (("INFO", 2),), "coder", 3),  # the passage itself: never its own example
        Example("村口开小卖部的大姐来贷款。", (), "dictionary"),
    ])
    prompt = Prompt(d, pool, {"coder": 1, "dictionary": 1})
    [[system, user]] = prompt.messages([Item(3, P_INFO, "你怎么了解客户？", "zh-Hans", 3)])
    assert "INFO 信息搜集" in system["content"] and "negated" in system["content"]
    assert "hypothetical" in system["content"]
    assert "<example>我去他家看了电费单，又查了银行流水。</example>\ncodes: INFO level 3" in user["content"]
    assert "定了每月十户" not in user["content"] and user["content"].count(P_INFO) == 1
    assert "<question>你怎么了解客户？</question>" in user["content"]
    assert user["content"].endswith(f"<passage>{P_INFO}</passage>")
    hant = prompt.system("zh-Hant")
    assert "INFO 信息蒐集" in hant and "不滿足於客戶自己遞上來的材料" in hant and "Traditional Chinese" in hant
    english = prompt.system("en")
    assert "INFO Information seeking" in english and "Going beyond the papers a borrower hands over" in english


def test_the_config_file(tmp_path):
    assert load_config(tmp_path / "none.toml") is None
    path = tmp_path / "config.toml"
    path.write_text('[llm]\nurl = "http://127.0.0.1:11434/v1"\nmodel = "qwen2.5:7b"\ntimeout = 30\n',
                    encoding="utf-8")
    cfg = load_config(path)
    assert (cfg.url, cfg.model, cfg.timeout, cfg.allow_remote, cfg.source) == \
        ("http://127.0.0.1:11434/v1", "qwen2.5:7b", 30, False, "llm:qwen2.5:7b")
    for text, problem in (('[llm]\nurl = "http://127.0.0.1/v1"\n', "needs model"),
                          ('[llm]\nurl = "u"\nmodel = "m"\ncolour = 1\n', r"unknown key\(s\) colour"),
                          ('[llm]\nurl = "u"\nmodel = "m"\nconcurrency = 0\n', "concurrency"),
                          ("[llm\n", "not a TOML file")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(LlmError, match=problem):
            load_config(path)
    path.write_text("[other]\nx = 1\n", encoding="utf-8")
    assert load_config(path) is None


# -- against the scripted server -------------------------------------------------------------------------
def test_a_good_reply_is_stored_with_its_provenance_and_evidence_spans(study):
    ids = ids_by_text(study)
    notices = []
    with ScriptedLLM(good) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm), notice=notices.append)
        store.close()
    assert len(llm.requests) == 5 and set(llm.paths) == {"/v1/chat/completions"}
    body = llm.requests[0]
    assert body["model"] == "scripted-7b" and body.get("stream") in (None, False)
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["codes"]
    assert schema["properties"]["codes"]["items"]["required"] == ["code", "level", "evidence", "reason"]
    assert run.ok == 5 and run.failed == 0 and run.suggestions == 4 and not run.dropped
    assert len(notices) == 1 and llm.url + "/chat/completions" in notices[0] and "scripted-7b" in notices[0]
    rows = q(study, "SELECT passage_id, code, score, level, evidence, source, endpoint, prompt_sha256, reason "
                    "FROM suggestions WHERE source LIKE 'llm:%' ORDER BY passage_id")
    assert {(r[0], r[1]) for r in rows} == {(ids[t], e["code"]) for t, e in GOOD.items()}
    host = llm.url.split("//")[1].split("/")[0]
    for pid, _code, score, level, evidence, source, endpoint, prompt_sha, reason in rows:
        text = next(t for t, i in ids.items() if i == pid)
        assert source == "llm:scripted-7b" and endpoint == host and len(prompt_sha) == 64 and reason
        assert score == 1.0 and level == GOOD[text]["level"]
        spans = json.loads(evidence)
        assert [text[e["start"]:e["end"]] for e in spans] == GOOD[text]["evidence"]
        assert all(e["matched"] == text[e["start"]:e["end"]] and e["token"] == "" for e in spans)
    assert q(study, "SELECT status, count(*) FROM llm_runs GROUP BY status") == [("ok", 5)]
    assert q(study, "SELECT host FROM llm_hosts") == [(host,)]


def test_hallucinated_quotes_unknown_codes_and_levels_out_of_range_are_dropped_and_counted(study):
    ids = ids_by_text(study)
    script = {
        P_ACH: {"codes": [{"code": "ACH", "level": 5, "evidence": ["给自己定了目标", "连续三年全省第一"],
                           "reason": "r"}]},
        P_INFO: {"codes": [{"code": "INFO", "level": 3, "evidence": ["我打电话问了他的邻居"], "reason": "made up"}]},
        P_NONE: {"codes": [{"code": "DILIGENCE", "level": 2, "evidence": ["按正常流程办完了"], "reason": "r"}]},
        P_IU: {"codes": [{"code": "IU", "level": 7, "evidence": ["我看出来他有顾虑"], "reason": "r"}]},
        P_CSO: {"codes": [{"code": "CSO", "level": -1, "evidence": ["替他算了一份还款计划"], "reason": "r"}]},
    }
    with ScriptedLLM(lambda body, n: Reply(json.dumps(script[passage_of(body)], ensure_ascii=False))) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm))
        dropped = {p: store.llm_run_for(i, "llm:scripted-7b")["dropped"] for p, i in ids.items()}
        store.close()
    assert len(llm.requests) == 5 and run.ok == 5
    assert q(study, "SELECT passage_id, code, score FROM suggestions WHERE source LIKE 'llm:%'") == \
        [(ids[P_ACH], "ACH", 0.5)]
    assert dict(run.dropped) == {"quote_not_in_passage": 2, "no_evidence": 1, "unknown_code": 1,
                                 "level_out_of_range": 2}
    assert dropped[P_ACH] == {"quote_not_in_passage": 1}
    assert dropped[P_INFO] == {"quote_not_in_passage": 1, "no_evidence": 1}
    assert dropped[P_NONE] == {"unknown_code": 1}
    assert dropped[P_IU] == dropped[P_CSO] == {"level_out_of_range": 1}
    assert "dropped: 1 level out of range" not in run.summary() and "2 level out of range" in run.summary()


def test_malformed_json_is_retried_once_then_recorded_as_failed(study):
    ids = ids_by_text(study)

    def responder(body, n):
        if passage_of(body) == P_ACH:
            return Reply('{"codes": [{"code": "ACH", "level": 5, "evidence": ["给自己定')  # cut off
        if passage_of(body) == P_IU:
            return Reply(None) if n % 2 else Reply('{"code": "IU"}')  # no content, or not {"codes": [...]}
        return good(body, n)

    with ScriptedLLM(responder) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm))
        asked = [b for b in llm.requests if passage_of(b) == P_ACH]
        assert len(asked) == 2  # the reply, then one retry
        assert "not the JSON asked for" in asked[1]["messages"][-1]["content"]
        assert run.failed == 2 and run.ok == 3
        assert store.llm_run_for(ids[P_IU], "llm:scripted-7b")["status"] == "failed"
        failed = store.llm_run_for(ids[P_ACH], "llm:scripted-7b")
        assert failed["status"] == "failed" and failed["error"].startswith("malformed reply, twice")
        assert failed["attempts"] == 2
        assert not store.has_suggestions_from(ids[P_ACH], "llm:scripted-7b")
        assert q(study, "SELECT count(*) FROM llm_cache") == [(3,)]  # a failure is not cached
        again = suggest_study_llm(store, config(llm))  # a rerun asks about the failed passages only
        store.close()
    assert again.items == 2 and again.requests == 4 and len(llm.requests) == 11  # asked, and retried, again


def test_a_timeout_is_retried_then_recorded_as_failed(study):
    ids = ids_by_text(study)

    def responder(body, n):
        return Reply(json.dumps({"codes": []}), delay=2.0) if passage_of(body) == P_INFO else good(body, n)

    with ScriptedLLM(responder) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm, timeout=0.4, retries=1))
        failed = store.llm_run_for(ids[P_INFO], "llm:scripted-7b")
        store.close()
        assert len([b for b in llm.requests if passage_of(b) == P_INFO]) == 2
    assert failed["status"] == "failed" and failed["error"].startswith("timeout") and failed["attempts"] == 2
    assert run.failed == 1 and run.ok == 4 and run.errors == {"timeout": 1}


def test_a_500_is_retried_with_backoff_then_recorded_as_failed(study):
    ids = ids_by_text(study)

    def responder(body, n):
        return Reply(status=500) if passage_of(body) == P_IU else good(body, n)

    with ScriptedLLM(responder) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm, retries=2, backoff=0.2, concurrency=1))
        failed = store.llm_run_for(ids[P_IU], "llm:scripted-7b")
        store.close()
        times = [t for b, t in zip(llm.requests, llm.times) if passage_of(b) == P_IU]
    assert len(times) == 3  # the request and two retries
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4  # backoff doubles
    assert failed["status"] == "failed" and failed["error"].startswith("HTTP 500") and failed["attempts"] == 3
    assert run.failed == 1 and run.ok == 4


def test_requests_stay_within_the_concurrency_limit(study):
    def slow(body, n):
        reply = good(body, n)
        reply.delay = 0.3
        return reply

    with ScriptedLLM(slow) as llm:
        store = Store(study)
        run = suggest_study_llm(store, config(llm, concurrency=2))
        store.close()
    assert run.ok == 5 and llm.max_in_flight == 2


def test_a_refused_request_or_an_unreachable_server_stops_the_run_in_one_line(study):
    with ScriptedLLM(lambda body, n: Reply(status=404)) as llm:
        result = run_cli("suggest", "--db", study, "--llm", llm.url, "--llm-model", "no-such-model")
        assert result.exit_code == 2 and len(llm.requests) <= 2  # the first refusal stops the others
    assert "refused the request (HTTP 404: scripted HTTP 404)" in result.stderr.strip().splitlines()[-1]
    with ScriptedLLM(good) as llm:
        url = llm.url
    store = Store(study)
    with pytest.raises(LlmError, match="cannot reach .* is the server running"):
        suggest_study_llm(store, LlmConfig(url, "m", retries=1, backoff=0.01, timeout=2))
    store.close()


def test_the_cache_answers_a_rerun_and_a_reimported_transcript(study, tmp_path):
    ids = ids_by_text(study)
    with ScriptedLLM(good) as llm:
        first = run_cli("suggest", "--db", study, "--llm", llm.url, "--llm-model", "scripted-7b")
        assert first.exit_code == 0, first.output
        assert "First use of 127.0.0.1" in first.stderr and "llm:scripted-7b at 127.0.0.1" in first.stdout
        assert len(llm.requests) == 5
        again = run_cli("suggest", "--db", study, "--llm", llm.url, "--llm-model", "scripted-7b")
        assert again.exit_code == 0 and len(llm.requests) == 5  # the server sees no second request
        assert "First use" not in again.stderr
        # an edited MC01: its unchanged passages are new rows, answered from the cache
        edited = tmp_path / "MC01.txt"
        edited.write_text(TUI_MC01.replace(P_NONE, "后来就按正常流程办完了，他也按时还了款。"), encoding="utf-8")
        assert run_cli("import", edited, "--db", study).exit_code == 0
        assert ids_by_text(study)[P_ACH] != ids[P_ACH]
        store = Store(study)
        run = suggest_study_llm(store, config(llm))
        store.close()
    assert run.items == 3 and run.cached == 2 and run.asked == 1 and len(llm.requests) == 6
    new_ach = ids_by_text(study)[P_ACH]
    assert q(study, "SELECT code, cached FROM suggestions s JOIN llm_runs r USING (passage_id, source) "
                    "WHERE s.passage_id = ?", [new_ach]) == [("ACH", 1)]


def test_evaluate_scores_the_llm_on_a_gold_file_and_reruns_from_the_cache(demo_db, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    gold = tmp_path / "gold.csv"
    texts = {"g1": "我给自己定了一个目标，每个月新增二十户，后来连着三个月都做到了。",
             "g2": "我专门跑到他的养殖场，数了数猪栏，又问了饲料店老板他每月进多少饲料。",
             "g3": "我觉得这一行最重要的是耐心。"}
    gold.write_text("id,text,codes\ng1,{g1},ACH\ng2,{g2},INFO\ng3,{g3},\n".format(**texts), encoding="utf-8")
    answers = {texts["g1"]: {"code": "ACH", "level": 5, "evidence": ["每个月新增二十户"], "reason": "r"},
               texts["g2"]: {"code": "INFO", "level": 3, "evidence": ["数了数猪栏"], "reason": "r"},
               texts["g3"]: {"code": "EXP", "level": 1, "evidence": ["最重要的是耐心"], "reason": "r"}}

    def responder(body, n):
        return codes_reply(answers[passage_of(body)])

    args = ["evaluate", "--db", db, "--coder", "reference", "--gold", gold, "--no-dictionary-examples",
            "--out", tmp_path / "eval.csv"]
    with ScriptedLLM(responder) as llm:
        result = run_cli(*args, "--llm", llm.url, "--llm-model", "scripted-7b")
        assert result.exit_code == 0, result.output
        assert len(llm.requests) == 3
        # the prompts show the reference coder's own decided passages
        assert "Passages the researcher has coded" in llm.requests[0]["messages"][1]["content"]
        table = {(r["suggester"], r["code"]): r for r in _csv(tmp_path / "eval.csv")}
        assert float(table[("llm", "micro")]["precision"]) == pytest.approx(2 / 3)
        assert float(table[("llm", "micro")]["recall"]) == 1.0
        assert ("lexicon", "micro") in table and ("blend", "micro") in table
        assert "llm:scripted-7b" in result.stdout
        (tmp_path / "eval.csv").unlink()
        rerun = run_cli(*args, "--llm", llm.url, "--llm-model", "scripted-7b")
        assert rerun.exit_code == 0 and len(llm.requests) == 3  # the cache answers
    result = run_cli("evaluate", "--db", db, "--llm", "http://127.0.0.1:9/v1", "--llm-model", "m")
    assert result.exit_code == 2 and "--gold" in result.stderr


def _csv(path: Path) -> list[dict]:
    import csv

    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_the_report_names_the_model_whose_suggestions_were_accepted(demo_db, tmp_path):
    from beicoder.core.report import build_report, markdown

    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    store = Store(db)
    assert "language model" not in markdown(build_report(store, "reference"))
    dictionary = store.dictionary()
    p = store.passages()[0]
    source = "llm:scripted-7b"
    span = {"start": 0, "end": 4, "matched": p.text[:4], "keyword": "", "token": "", "source": "llm"}
    code = next(c for c in dictionary.codes if c not in {r["code"] for r in store.codings_for(p.id, "reference")})
    store.store_llm_result(source, p.id, dictionary.sha256, "ok",
                           [{"code": code, "score": 1.0, "level": 1, "evidence": [span], "reason": "r"}],
                           "127.0.0.1:11434", "ab" * 32)
    store.add_codes(p.id, "reference", {code: None})  # the coder accepts the suggestions shown
    method = markdown(build_report(store, "reference")).split("## Method")[1].split("##")[0]
    store.close()
    assert "local language model (scripted-7b at 127.0.0.1:11434, 1 codings)" in method


# -- the study file ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [6, 7, 8])
def test_the_migrations_to_8_and_9_run_on_a_study_at_6_7_or_8(study, version):
    """Step 8 (the LLM) and step 9 (change log, search index, open sessions; a branch's step 7
    before 8 landed) both run, whichever of them a study had."""
    conn = sqlite3.connect(study)
    if version < 8:
        for col in ("endpoint", "prompt_sha256", "reason"):
            conn.execute(f"ALTER TABLE suggestions DROP COLUMN {col}")
        for table in ("llm_cache", "llm_runs", "llm_hosts"):
            conn.execute(f"DROP TABLE {table}")
    if version != 7:  # a study the coding-screen branch took to 7 already has step 9's part
        for col in ("pid", "host", "last_seen", "ended_at"):
            conn.execute(f"ALTER TABLE sessions DROP COLUMN {col}")
        conn.execute("DROP TABLE changes")
        conn.execute("DROP TABLE passage_search")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    conn.commit()
    conn.close()
    store = Store(study, create=False)
    cols = {r["name"] for r in store.query("PRAGMA table_info(suggestions)")}
    assert {"endpoint", "prompt_sha256", "reason", "level", "level_cue"} <= cols
    assert {"llm_cache", "llm_runs", "llm_hosts"} <= set(store.db.table_names())
    assert {"changes", "passage_search"} <= set(store.db.table_names())
    assert {"pid", "host", "last_seen", "ended_at"} <= {r["name"] for r in store.query("PRAGMA table_info(sessions)")}
    assert store.query("SELECT value FROM meta WHERE key = 'schema_version'") == [{"value": str(SCHEMA_VERSION)}]
    store.close()
    assert SCHEMA_VERSION == 10


# -- what the coder sees ---------------------------------------------------------------------------------------
def test_the_llm_is_a_third_source_that_never_changes_the_other_scores():
    shown = [{"code": "ACH", "score": 0.55, "sources": ["lexicon"], "lexicon_score": 0.55, "model_score": None,
              "level": None, "level_cue": None, "evidence": [{"start": 0, "end": 2, "matched": "目标"}],
              "model_evidence": []}]
    span = {"start": 5, "end": 9, "matched": "全行第一", "keyword": "", "token": "", "source": "llm"}
    llm_rows = [{"code": "ACH", "score": 1.0, "level": 5, "evidence": [span], "reason": "r1"},
                {"code": "INFO", "score": 0.5, "level": 2, "evidence": [span], "reason": "r2"}]
    out = with_llm(shown, llm_rows, "llm:m")
    assert [(s["code"], s["score"], s["sources"]) for s in out] == \
        [("ACH", 0.55, ["lexicon", "llm"]), ("INFO", 0.5, ["llm"])]
    assert out[0]["level"] == 5 and out[0]["level_cue"] == "llm:m" and len(out[0]["evidence"]) == 2
    assert with_llm(shown, [], "llm:m") == shown
    assert "never changes their score" in BLEND_RULE


def test_help_does_not_load_the_openai_client():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom beicoder.cli import main\n"
            "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
            "assert CliRunner().invoke(main, ['suggest', '--help']).exit_code == 0\n"
            "print(','.join(m for m in ('openai', 'httpx2', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
