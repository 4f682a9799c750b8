"""The ranked inbox and rules, on a real library file with topic-shaped synthetic papers."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import pytest

from paperdesk.core import Library, idlist
from paperdesk.core.rank import chunk_io, features, rules
from paperdesk.core.rank import model as model_module
from paperdesk.core.rank.features import DIM, FeatureCache, segment_sums
from paperdesk.core.rank.model import MIN_POSITIVES, format_reasons
from paperdesk.core.rank.ranker import Ranker
from paperdesk.core.rank.suggest import Suggester
from paperdesk.core.records import IncomingPaper, SourceBatch

TOPICS = {
    "rl": "reinforcement learning policy reward agent exploration bandit offline q-learning",
    "vision": "image segmentation detection pixels convolutional camera video frames",
    "speech": "speech audio recognition acoustic waveform speaker phoneme transcription",
    "graphs": "graph neural message passing nodes edges molecule topology",
}
FILLER = "study evaluate benchmark performance analysis experiments dataset model training"


def _paper(rng: random.Random, topic: str, n: int) -> IncomingPaper:
    words = TOPICS[topic].split()
    title = f"{rng.choice(words).title()} {rng.choice(words)} study {n}"
    abstract = " ".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(FILLER.split())
                        for _ in range(60))
    org = "DeepMind" if topic == "rl" and rng.random() < 0.5 else None
    return IncomingPaper(title=title, abstract=abstract, organization=org,
                         published=f"2026-{1 + n % 12:02d}-{1 + n % 27:02d}", upvotes=n % 50)


@pytest.fixture
def topic_lib(tmp_path):
    rng = random.Random(7)
    papers, topic_of = [], {}
    for n in range(240):
        topic = list(TOPICS)[n % 4]
        papers.append(_paper(rng, topic, n))
    lib = Library.open(tmp_path / "lib")
    lib.import_batch(SourceBatch("digest", "synthetic", "/synthetic", "2026-11-20", "h-rank", papers))
    for pid, title in lib.conn.execute("SELECT id, title FROM papers"):
        n = int(title.rsplit(" ", 1)[1])
        topic_of[pid] = list(TOPICS)[n % 4]
    yield lib, topic_of
    lib.close()


def _decide(lib: Library, topic_of: dict[str, str], liked: str, n: int) -> None:
    ids = sorted(topic_of)
    liked_ids = [p for p in ids if topic_of[p] == liked][:n]
    other_ids = [p for p in ids if topic_of[p] != liked][:n]
    lib.star(liked_ids)
    lib.archive(other_ids)


def test_segment_sums_handles_empty_rows_anywhere():
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    indptr = np.array([0, 0, 2, 2, 3, 3])
    assert segment_sums(values, indptr).tolist() == [0.0, 3.0, 0.0, 3.0, 0.0]


def test_model_ranks_the_liked_topic_first_and_explains_it(topic_lib):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 15)
    inbox = [h.id for h in lib.search.run("is:inbox", limit=None, typing=False).hits]
    ranked = lib.ranker.rank(inbox, limit=20)
    assert ranked.model.kind == "model"
    assert "learnt from 15 kept" in ranked.message
    top = [topic_of[p] for p in ranked.ids]
    assert top.count("rl") >= 18, top  # date order would give about 5 of 20
    reasons = lib.ranker.explain(lib.get(ranked.ids[0]))
    rl_words, vision_words = set(TOPICS["rl"].split()), set(TOPICS["vision"].split())
    assert any(set(r.name.split()) & rl_words for r in reasons if r.weight > 0), reasons
    ups, _downs = lib.ranker.words()
    assert any(set(r.name.split()) & rl_words for r in ups[:5]), ups
    assert not any(set(r.name.split()) & vision_words for r in ups[:5]), ups
    assert format_reasons(reasons)


def test_cold_start_says_so_and_ranks_by_likeness_or_upvotes(topic_lib):
    lib, topic_of = topic_lib
    inbox = [h.id for h in lib.search.run("is:inbox", limit=None, typing=False).hits]
    ranked = lib.ranker.rank(inbox, limit=5)
    assert ranked.model.kind == "upvotes" and "ranked by upvotes" in ranked.message
    ups = [lib.get(p)["upvotes"] for p in ranked.ids]
    assert ups == sorted(ups, reverse=True)
    _decide(lib, topic_of, "speech", 3)
    inbox = [h.id for h in lib.search.run("is:inbox", limit=None, typing=False).hits]
    ranked = lib.ranker.rank(inbox, limit=10)
    assert ranked.model.kind == "similar"
    assert f"a model needs {MIN_POSITIVES}" in ranked.message
    assert [topic_of[p] for p in ranked.ids].count("speech") >= 8


def test_retraining_follows_new_decisions(topic_lib):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 12)
    first = lib.ranker.model()
    assert lib.ranker.model() is first  # nothing changed: no retraining
    more = [p for p in sorted(topic_of) if topic_of[p] == "graphs"][:40]
    lib.star(more)
    second = lib.ranker.model()
    assert second is not first and second.positives == 52
    inbox = [h.id for h in lib.search.run("is:inbox", limit=None, typing=False).hits]
    assert "graphs" in [topic_of[p] for p in lib.ranker.order(inbox)[:10]]


def test_tag_model_and_suggestions(topic_lib):
    lib, topic_of = topic_lib
    vision = [p for p in sorted(topic_of) if topic_of[p] == "vision"]
    rl = [p for p in sorted(topic_of) if topic_of[p] == "rl"]
    lib.tag(vision[:12], ["cv"])
    lib.star(rl[:12])
    model = lib.ranker.model("cv")
    assert model.kind == "model" and model.tag == "cv"
    # "papers like my #cv ones": the tag's model puts an untagged vision paper above an rl one
    assert lib.ranker.order([rl[30], vision[30]], "cv") == [vision[30], rl[30]]
    # and the desk's likely tags (the `t` popup) offer #cv for the one, not for the other
    suggester = Suggester()
    assert suggester.likely(lib, vision[30], ["cv"]) == ["cv"]
    assert suggester.likely(lib, rl[30], ["cv"]) == []


def test_sort_interest_in_the_query_language(topic_lib):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "graphs", 12)
    result = lib.search.run("study sort:interest", limit=10, typing=False)
    assert result.sort == "interest" and result.ranking and "model" in result.ranking
    assert len(result.hits) == 10 and result.total > 10
    assert [topic_of[h.id] for h in result.hits].count("graphs") >= 8
    assert result.hits[0].score >= result.hits[-1].score
    assert lib.search.run("sort:interest is:inbox", limit=5, typing=False).sort == "interest"


def test_feature_cache_survives_restart_and_a_torn_chunk(topic_lib, tmp_path):
    lib, _ = topic_lib
    lib.ranker.refresh()
    files = sorted((lib.folder / "rank").glob("*.npz"))
    assert files
    files[0].write_bytes(b"torn")
    fresh = FeatureCache(lib.folder)
    made = fresh.refresh(lib.conn)
    assert made == 240 and len(fresh.row_of) == 240  # the torn file's papers were read again
    again = FeatureCache(lib.folder)
    assert again.refresh(lib.conn) == 0 and len(again.row_of) == 240


def test_rules_apply_to_new_papers_and_to_the_inbox_undoably(topic_lib):
    lib, _topic_of = topic_lib
    with pytest.raises(rules.RuleError, match="cannot use query"):
        rules.add_rule(lib, "bad", 'upvotes:>>>', rules.make_actions(["x"]))
    with pytest.raises(rules.RuleError, match="needs an action"):
        rules.make_actions()
    with pytest.raises(rules.RuleError, match="unknown rule action"):
        rules.add_rule(lib, "bad", "speech", [{"do": "explode"}])
    rules.add_rule(lib, "audio", "speech", rules.make_actions(["audio"], star=True))
    assert rules.apply_to_new(lib) == {}  # nothing imported since the rule was made
    rng = random.Random(3)
    new = [_paper(rng, "speech", 1000 + n) for n in range(3)] + [_paper(rng, "rl", 2000)]
    lib.import_batch(SourceBatch("digest", "more", "/more", "2026-11-21", "h-more", new))
    assert rules.apply_to_new(lib) == {"audio": 3}
    tagged = {p for (p,) in lib.conn.execute("SELECT paper_id FROM tags WHERE tag = 'audio'")}
    assert len(tagged) == 3
    labels = [op.label for op in lib.history(3)]
    assert any(label.startswith("Rule audio: tag #audio") for label in labels)
    assert any(label.startswith("Rule audio: star") for label in labels)
    # On demand over the Inbox: a preview first, then one undoable operation per action.
    rule = rules.get_rule(lib, "audio")
    inbox_speech = rules.matches(lib, rule)
    expected = {p for (p,) in lib.conn.execute(
        "SELECT id FROM papers WHERE status = 'inbox' "
        "AND (title || ' ' || abstract_text(abstract)) LIKE '%speech%'")}
    assert set(inbox_speech) == expected and len(expected) > 50
    rules.apply(lib, rule, inbox_speech)
    assert lib.conn.execute("SELECT count(*) FROM tags WHERE tag = 'audio'").fetchone()[0] == len(expected)
    lib.undo()  # the star
    lib.undo()  # the tag
    assert lib.conn.execute("SELECT count(*) FROM tags WHERE tag = 'audio'").fetchone()[0] == 3


def test_cli_rank_explain_and_rules(topic_lib, tmp_path):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 12)
    folder = str(lib.folder)
    run = [sys.executable, "-m", "paperdesk", "--library", folder]
    out = subprocess.run([*run, "rank", "--json", "--limit", "5"], capture_output=True, text=True,
                         check=True)
    data = json.loads(out.stdout)
    assert "model" in data["model"] and len(data["hits"]) == 5 and "papers" not in data
    assert [topic_of[p["id"]] for p in data["hits"]].count("rl") >= 4
    top = data["hits"][0]["id"]
    # The keys and per-paper fields of `search --json`, plus the score's explanation.
    found = json.loads(subprocess.run([*run, "search", "--json", "reward"], capture_output=True,
                                      text=True, check=True).stdout)
    assert set(found) <= set(data) and set(found["hits"][0]) <= set(data["hits"][0])
    assert data["sort"] == "interest" and data["total"] == lib.count(status="inbox")
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)
    words = set(TOPICS["rl"].split())
    assert any(w in data["hits"][0]["explanation"] for w in words), data["hits"][0]["explanation"]
    assert data["hits"][0]["reasons"][0]["weight"] > 0
    out = subprocess.run([*run, "rank", "--explain", top], capture_output=True, text=True, check=True)
    assert "score" in out.stdout and "model's strongest words" in out.stdout
    out = subprocess.run([*run, "rules", "add", "g", "graph", "--tag", "graphs"], capture_output=True,
                         text=True, check=True)
    assert "rule 'g'" in out.stdout
    out = subprocess.run([*run, "rules", "run", "g", "--dry-run"], capture_output=True, text=True,
                         check=True)
    assert "would tag #graphs" in out.stdout
    assert lib.conn.execute("SELECT count(*) FROM tags WHERE tag = 'graphs'").fetchone()[0] == 0
    bad = subprocess.run([*run, "rules", "add", "b", "upvotes:>>", "--star"], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and "cannot use query" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_rank_names_the_problems_of_its_query(topic_lib):
    """As `search` does: a query read leniently says what it ignored, on stderr and in --json."""
    lib, _ = topic_lib
    run = [sys.executable, "-m", "paperdesk", "--library", str(lib.folder), "rank", "--query", "title:("]
    out = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "paperdesk: note: title: needs a value" in out.stderr.splitlines()
    data = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, check=True).stdout)
    assert any("needs a value" in p for p in data["problems"])


def test_rules_refuse_long_names_tags_queries_and_bad_rules_changing_nothing(topic_lib):
    from paperdesk.core.library import LibraryError
    from paperdesk.core.limits import MAX_TAG_CHARS
    from paperdesk.core.search import querylang as ql

    lib, topic_of = topic_lib
    ok = rules.make_actions(["audio"])
    steps = lib.conn.execute("SELECT count(*) FROM operations").fetchone()[0]
    with pytest.raises(rules.RuleError, match=r"^a rule.s name is at most 80 characters \(this one has 81\)"):
        rules.add_rule(lib, "n" * 81, "speech", ok)
    with pytest.raises(rules.RuleError, match=r"^a rule's query is at most 1000 characters"):
        rules.add_rule(lib, "long", "speech " * 200, ok)
    with pytest.raises(rules.RuleError, match=rf"^a tag is at most {MAX_TAG_CHARS} characters"):
        rules.make_actions(["t" * (MAX_TAG_CHARS + 1)])
    with pytest.raises(rules.RuleError, match=rf"^a tag is at most {MAX_TAG_CHARS} characters"):
        rules.add_rule(lib, "raw", "speech", [{"do": "tag", "tag": "t" * (MAX_TAG_CHARS + 1)}])
    with pytest.raises(rules.RuleError, match=r"^unknown rule action"):
        rules.add_rule(lib, "raw", "speech", [{"do": "explode"}])
    with pytest.raises(rules.RuleError, match=r"^a rule needs an action"):
        rules.add_rule(lib, "raw", "speech", [])
    for bad in ("abstract:(reward", "is:nonsense", "upvotes:>>>", "unknown:field"):
        problems = ql.parse(bad, typing=False).problems
        with pytest.raises(rules.RuleError) as refused:
            rules.add_rule(lib, "bad", bad, ok)
        assert problems and all(p in str(refused.value) for p in problems)  # the query language's words
    assert rules.list_rules(lib) == []
    assert lib.conn.execute("SELECT count(*) FROM operations").fetchone()[0] == steps  # nothing recorded
    # At the caps: stored as given ('#' and extra spaces go, as Library.tag stores tags).
    rules.add_rule(lib, " n" * 40, "speech", rules.make_actions([f"#{'t' * MAX_TAG_CHARS}", "a  b"]))
    (rule,) = rules.list_rules(lib)
    assert len(rule.name) == 79 and rule.actions == [{"do": "tag", "tag": "t" * MAX_TAG_CHARS},
                                                     {"do": "tag", "tag": "a b"}]
    # Library.tag has the same cap (untag still takes any stored tag).
    some = sorted(topic_of)[:1]
    with pytest.raises(LibraryError, match=rf"^a tag is at most {MAX_TAG_CHARS} characters"):
        lib.tag(some, ["t" * (MAX_TAG_CHARS + 1)])
    assert lib.get(some[0])["tags"] == []


def test_every_rule_action_is_one_undoable_step_named_after_the_rule(topic_lib):
    lib, _topic_of = topic_lib
    rules.add_rule(lib, "speech pile", "speech", rules.make_actions(["audio"], star=True, archive=True,
                                                                    read=True))
    rule = rules.get_rule(lib, "speech pile")
    ids = rules.matches(lib, rule)
    assert ids and all(lib.rows([p])[0]["is_read"] == 0 for p in ids)
    rules.apply(lib, rule, ids)
    assert all(lib.rows([p])[0]["is_read"] == 1 and lib.get(p)["starred"] for p in ids)
    assert all(lib.get(p)["status"] == "archived" for p in ids)
    labels = [op.label for op in lib.history(4)]
    assert labels == ["Rule speech pile: mark read", "Rule speech pile: archive", "Rule speech pile: star",
                      "Rule speech pile: tag #audio"], labels
    lib.undo()  # mark read: a step of its own, undone like the others
    assert all(lib.rows([p])[0]["is_read"] == 0 and lib.get(p)["status"] == "archived" for p in ids)
    for _ in range(3):
        lib.undo()
    assert all(not lib.get(p)["starred"] and lib.get(p)["status"] == "inbox" and lib.get(p)["tags"] == []
               for p in ids)


def test_cli_rules_refuse_bad_rules_in_one_line(topic_lib):
    lib, _ = topic_lib
    run = [sys.executable, "-m", "paperdesk", "--library", str(lib.folder), "rules", "add"]
    for args, says in ((["n" * 81, "speech", "--star"], "a rule's name is at most 80 characters"),
                       (["t", "speech", "--tag", "x" * 101], "a tag is at most 100 characters"),
                       (["q", "speech " * 200, "--star"], "a rule's query is at most 1000 characters"),
                       (["q", "is:nonsense", "--star"], "unknown filter is:nonsense"),
                       (["q", "speech"], "a rule needs an action")):
        bad = subprocess.run([*run, *args], capture_output=True, text=True)
        assert bad.returncode == 1 and says in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stdout == ""
    assert rules.list_rules(lib) == []


def test_likely_tags_from_three_tagged_papers_and_never_for_noise(topic_lib):
    lib, topic_of = topic_lib
    ids = sorted(topic_of)
    rl = [p for p in ids if topic_of[p] == "rl"]
    vision = [p for p in ids if topic_of[p] == "vision"]
    lib.tag(rl[:3], ["rl"])
    lib.tag(rl[3:5], ["two"])  # under three tagged papers: says too little, never offered
    rng = random.Random(5)
    noise = rng.sample(ids, 6)  # a tag on papers that share nothing but filler
    assert len({topic_of[p] for p in noise}) >= 3
    lib.tag(noise, ["misc"])
    lib.ranker.refresh()
    # With 3 tagged papers the tag has no model of its own yet (likeness still offers it below).
    assert lib.ranker.model("rl").kind == "similar"
    suggester = Suggester()
    liked = [p for p in rl[5:] if p not in noise]
    offered = [p for p in liked if suggester.likely(lib, p, ["rl"]) == ["rl"]]
    assert len(offered) >= len(liked) * 0.8, (len(offered), len(liked))  # papers like the tagged ones
    unrelated = [p for p in ids if topic_of[p] != "rl" and p not in noise]
    assert not any(suggester.likely(lib, p, ["rl", "two", "misc"]) for p in unrelated)
    assert not any("misc" in suggester.likely(lib, p, ["misc", "two"]) for p in ids if p not in noise)
    assert suggester.likely(lib, vision[40], ["rl"]) == []
    why = suggester.likely_why(lib, rl[30], ["rl", "misc"])
    assert list(why) == ["rl"] and len(why["rl"]) == 3
    # A word or a word pair holding an rl word (each topic word is in a quarter of this library's
    # papers, over features.COMMON_DF: the pairs often say more).
    assert all(set(w.split(" ")) & set(TOPICS["rl"].split()) or w.startswith("+") for w in why["rl"]), why
    # More tagged papers: measured again (the tag's papers changed), still right.
    lib.tag(rl[5:8], ["rl"])
    assert all(suggester.likely(lib, p, ["rl"]) == ["rl"] for p in rl[8:] if p not in noise)
    likeness = suggester.measured(lib.ranker.cache, "misc", lib.paper_ids(tag="misc"))
    assert likeness is not None and likeness.threshold == float("inf")


def test_cold_start_puts_a_paper_like_the_kept_ones_above_a_more_upvoted_unrelated_one(topic_lib):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "speech", 2)
    inbox = [h.id for h in lib.search.run("is:inbox", limit=None, typing=False).hits]
    upvotes = {p: lib.get(p)["upvotes"] for p in inbox}
    speech = sorted((p for p in inbox if topic_of[p] == "speech"), key=upvotes.get)
    like = speech[len(speech) // 2]  # a speech paper of middling upvotes
    popular = max((p for p in inbox if topic_of[p] == "rl"), key=upvotes.get)
    assert upvotes[popular] > upvotes[like] + 10
    ranked = lib.ranker.rank(inbox)
    assert ranked.model.kind == "similar" and "by upvotes" in ranked.message
    assert ranked.ids.index(like) < ranked.ids.index(popular)
    # Upvotes still count among papers alike: the most upvoted speech paper beats the least.
    assert ranked.ids.index(speech[-1]) < ranked.ids.index(speech[0])


def test_pseudo_feedback_learns_a_word_only_unlabelled_papers_share_with_the_kept(topic_lib, monkeypatch):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 60)  # every rl paper kept: the unread ones most like them are ...
    kept = [p for p in sorted(topic_of) if topic_of[p] == "rl"][:8]
    # ... near-copies of kept papers, each with a word no decided paper has.
    extra = [IncomingPaper(title=f"Follow-up {n}", abstract=lib.get(pid)["abstract"] + " quokka",
                           published="2026-11-22") for n, pid in enumerate(kept)]
    lib.import_batch(SourceBatch("digest", "quokka", "/quokka", "2026-11-22", "h-quokka", extra))
    quokka = features.word_feature("quokka")
    assert lib.ranker.model().weights[quokka] > 0
    monkeypatch.setattr(model_module, "PSEUDO_POSITIVES", 0)
    fresh = Ranker(lib.folder, lib.conn)  # one that learns from these decisions alone
    assert fresh.model().weights[quokka] < 0  # without feedback: only in weak negatives


def test_packed_features_score_as_plain_tf_idf(topic_lib, monkeypatch):
    """3-byte entries unpacked block by block, very common features dropped, give the scores of
    tf-idf computed the plain way: sublinear tf, smooth idf, halved for features in over COMMON_DF
    of papers, none for those in over DROP_DF or in under MIN_DF papers, word pairs weighed
    PAIR_WEIGHT, rows L2-normalised."""
    lib, _ = topic_lib
    monkeypatch.setattr(features, "BLOCK_ROWS", 7)  # many blocks, one of them short
    one_off = IncomingPaper(title="Quokka zyxwv", abstract="kinkajou axolotl reward policy",
                            published="2026-11-01")
    lib.import_batch(SourceBatch("digest", "one", "/one", "2026-11-21", "h-one", [one_off]))
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    rows = lib.conn.execute(
        "SELECT id, title, abstract_text(abstract), organization, authors FROM papers").fetchall()
    counts = []
    hasher = features.Hasher()
    for _pid, title, abstract, org, authors in rows:
        feats, n = np.unique(features.features_of(hasher, title, abstract, org, json.loads(authors)),
                             return_counts=True)
        counts.append(dict(zip(feats.tolist(), np.minimum(n, features.MAX_COUNT).tolist(), strict=True)))
    assert max(f for c in counts for f in c) >= 1 << 16  # the high bits are exercised
    assert min(f for c in counts for f in c) < features.PAIRS <= max(f for c in counts for f in c)
    df: dict[int, int] = {}
    for c in counts:
        for f in c:
            df[f] = df.get(f, 0) + 1
    n = len(rows)
    idf = {f: 0.0 if d > features.DROP_DF * n or d < features.MIN_DF else (np.log((n + 1) / (d + 1)) + 1)
           * (features.COMMON_WEIGHT if d > features.COMMON_DF * n else 1)
           * (features.PAIR_WEIGHT if f >= features.PAIRS else 1) for f, d in df.items()}
    assert any(features.COMMON_DF * n < d <= features.DROP_DF * n for d in df.values())
    weights = np.random.default_rng(1).normal(size=features.DIM).astype(np.float32)
    expected = []
    for c in counts:
        vec = {f: (1 + np.log(k)) * idf[f] for f, k in c.items()}
        norm = np.sqrt(sum(v * v for v in vec.values()))
        expected.append(sum(weights[f] * v for f, v in vec.items()) / norm)
    order = cache.rows([r[0] for r in rows])
    assert np.allclose(cache.score_all(weights)[order], expected, rtol=1e-4, atol=1e-4)
    assert any(d < features.MIN_DF for d in df.values())
    idx, values = cache.row(int(order[0]))  # the row holds no dropped (too common or rare) feature
    assert sorted(idx.tolist()) == sorted(f for f in counts[0] if idf[f] > 0)
    assert len(idx) < len(counts[0]) and np.isclose(np.linalg.norm(values), 1, atol=1e-5)


def test_pack_keeps_feature_numbers_and_caps_counts():
    indices = np.array([0, 1, 65535, 65536, 300_000, features.DIM - 1], dtype=np.int32)
    counts = np.array([1, 2, 15, 16, 200, 3])
    low, high = features.pack(indices, counts)
    chunk = features.Chunk(ids=["a"], indptr=np.array([0, len(indices)]), low=low, high=high)
    idx, cnt = chunk.unpack(0, len(indices))
    assert idx.tolist() == indices.tolist() and cnt.tolist() == [1, 2, 15, 15, 15, 3]
    assert low.nbytes + high.nbytes == 3 * len(indices)


def test_chunks_of_an_older_format_are_dropped_and_featurised_again(topic_lib):
    lib, _ = topic_lib
    old = lib.folder / "rank" / "v1-0123.npz"
    old.parent.mkdir(parents=True, exist_ok=True)
    np.savez(old, ids=np.asarray("x"), indptr=np.array([0, 1]), indices=np.array([5], np.int32),
             counts=np.array([1], np.uint8))
    cache = FeatureCache(lib.folder)
    assert cache.refresh(lib.conn) == 240
    assert not old.exists() and "x" not in cache.row_of


def test_compaction_merges_small_files_and_keeps_dropped_features_on_disk(topic_lib, monkeypatch):
    lib, _ = topic_lib
    monkeypatch.setattr(features, "MAX_CHUNKS", 2)
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    rng = random.Random(9)
    for day in range(4):  # daily imports, each a small chunk file
        batch = [_paper(rng, "rl", 5000 + 10 * day + k) for k in range(10)]
        lib.import_batch(SourceBatch("digest", f"d{day}", f"/d{day}", f"2026-11-2{day}", f"h-d{day}", batch))
        cache.refresh(lib.conn)
    assert len(list((lib.folder / "rank").glob("*.npz"))) <= 3 and len(cache.row_of) == 280
    assert cache.dropped.any()  # common features are out of the matrix...
    fresh = FeatureCache(lib.folder)
    assert fresh.refresh(lib.conn) == 0 and len(fresh.row_of) == 280
    # ...but the files still hold them: a fresh load, which reads only the files, counts every one.
    assert (fresh.df[cache.dropped] != 0).all()
    # A feature dropped once stays out of a live cache; a fresh load drops only what is common now.
    assert not (fresh.dropped & ~cache.dropped).any()
    weights = np.random.default_rng(2).normal(size=DIM).astype(np.float32)
    differ = cache.dropped & ~fresh.dropped
    same = [pid for pid in sorted(cache.row_of) if not differ[fresh.row(fresh.row_of[pid])[0]].any()]
    assert len(same) > 100
    assert np.allclose(fresh.score_all(weights)[fresh.rows(same)], cache.score_all(weights)[cache.rows(same)],
                       atol=1e-4)


def test_a_big_first_featurising_runs_in_a_child_process_with_the_same_features(topic_lib, monkeypatch):
    lib, _topic_of = topic_lib
    here = FeatureCache(lib.folder)
    here.refresh(lib.conn)  # in this thread (240 papers: under CHILD_PAPERS)
    assert len(list(here.dir.glob("v*.npz"))) == 1
    for path in here.dir.glob("v*.npz"):
        path.unlink()
    monkeypatch.setattr(features, "CHILD_PAPERS", 100)
    seen: list[tuple[int, int]] = []
    child = FeatureCache(lib.folder)
    assert child.refresh(lib.conn, lambda done, total, _what: seen.append((done, total))) == 240
    assert seen and seen[-1] == (240, 240)
    assert len(list(child.dir.glob("v*.npz"))) == 1  # one file written by the child
    assert set(child.row_of) == set(here.row_of)
    for pid, r in here.row_of.items():
        a, b = here.row(r), child.row(child.row_of[pid])
        assert a[0].tolist() == b[0].tolist() and np.allclose(a[1], b[1])
    assert child.refresh(lib.conn) == 0  # nothing new: no child, nothing featurised


def test_a_failing_child_leaves_the_featurising_to_this_thread(topic_lib, monkeypatch):
    lib, _topic_of = topic_lib
    monkeypatch.setattr(features, "CHILD_PAPERS", 100)
    in_child = features.featurise_in_child
    made: list[int] = []

    def unreadable(_path: str, *args: object) -> int:  # given a database it cannot open, the child fails
        made.append(in_child("/nonexistent/library.sqlite3", *args))
        return made[-1]

    monkeypatch.setattr(features, "featurise_in_child", unreadable)
    cache = FeatureCache(lib.folder)
    assert cache.refresh(lib.conn) == 240 and len(cache.row_of) == 240
    assert made == [0]  # the child was started and failed


def _one_paper(lib: Library, title: str, day: str) -> str:
    paper = IncomingPaper(title=title, abstract="zyxquortle appears in this abstract and nowhere else",
                          published="2026-11-28")
    lib.import_batch(SourceBatch("digest", day, f"/{day}", "2026-11-28", f"h-{day}", [paper]))
    (pid,) = lib.conn.execute("SELECT id FROM papers WHERE title = ?", (title,)).fetchone()
    return pid


def test_a_feature_first_dropped_as_rare_is_in_every_row_or_in_none(topic_lib):
    """A word in one paper is out of the matrix (MIN_DF); when a later paper has it too, the live
    cache keeps it out of both rows (the first row cannot take it back), a fresh load puts it in both."""
    lib, _ = topic_lib
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    first = _one_paper(lib, "Zyxquortle first", "r1")
    assert cache.refresh(lib.conn) == 1
    second = _one_paper(lib, "Zyxquortle second", "r2")
    assert cache.refresh(lib.conn) == 1
    word = features.word_feature("zyxquortle")

    def has(c: FeatureCache, pid: str) -> bool:
        return word in c.row(c.row_of[pid])[0]

    assert has(cache, first) == has(cache, second) is False
    assert cache.dropped[word] and cache.idf(np.array([word]))[0] == 0
    fresh = FeatureCache(lib.folder)
    fresh.refresh(lib.conn)
    assert has(fresh, first) and has(fresh, second)


def test_refresh_finds_papers_added_by_this_connection_and_by_another(topic_lib):
    """Papers are listed again only after a write (SQLite's data_version and total_changes), and
    every such write is seen: this connection's and another process's."""
    lib, _ = topic_lib
    cache = FeatureCache(lib.folder)
    assert cache.refresh(lib.conn) == 240
    assert cache.refresh(lib.conn) == 0
    _one_paper(lib, "Added here", "here")
    assert cache.refresh(lib.conn) == 1
    other = Library.open(lib.folder)
    try:
        _one_paper(other, "Added by another connection", "there")
    finally:
        other.close()
    assert cache.refresh(lib.conn) == 1 and len(cache.row_of) == 242
    assert cache.refresh(lib.conn) == 0


def test_a_retrained_model_has_every_score_so_ranking_scores_nothing(topic_lib, monkeypatch):
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 12)
    inbox = lib.paper_ids(status="inbox")
    lib.ranker.rank(inbox)
    lib.star([p for p in inbox if topic_of[p] == "rl" and not lib.get(p)["starred"]][:3])  # retrains
    scored: list[int] = []
    real = lib.ranker.cache.score_all
    monkeypatch.setattr(lib.ranker.cache, "score_all", lambda w: scored.append(1) or real(w))
    model = lib.ranker.model()
    assert model.positives == 15 and len(scored) == 2  # pseudo feedback's, and the model's own
    assert model.scores is not None and len(model.scores) == len(lib.ranker.cache.row_of)
    ranked = lib.ranker.rank(inbox, limit=10)
    assert ranked.model is model and len(scored) == 2  # the ranking read the kept scores
    expected = lib.ranker.cache.score_all(model.weights.dense()) + np.float32(model.bias)
    rows = lib.ranker.cache.rows(ranked.ids)
    assert np.allclose(ranked.scores, expected[rows], atol=1e-5)


def test_sort_interest_keeps_the_best_of_every_match_and_makes_only_their_hits(topic_lib):
    lib, topic_of = topic_lib
    by_upvotes = lib.search.run("is:inbox sort:interest", limit=None, typing=False)  # no decision yet
    newest_first = {p: n for n, p in enumerate(lib.paper_ids(status="inbox", order="date"))}
    ties = [(a.id, b.id) for a, b in itertools.pairwise(by_upvotes.hits) if a.score == b.score]
    assert len(ties) > 100 and all(newest_first[a] < newest_first[b] for a, b in ties)  # kept by date
    _decide(lib, topic_of, "speech", 12)
    everything = lib.search.run("is:inbox sort:interest", limit=None, typing=False)
    assert everything.total == len(everything.hits) == lib.count(status="inbox")
    scores = [h.score for h in everything.hits]
    assert scores == sorted(scores, reverse=True)
    top = lib.search.run("is:inbox sort:interest", limit=7, typing=False)
    assert top.total == everything.total and [h.id for h in top.hits] == [h.id for h in everything.hits[:7]]
    assert [topic_of[h.id] for h in top.hits].count("speech") >= 6
    worded = lib.search.run("speech sort:interest", limit=5, typing=False)
    assert len(worded.hits) == 5 and "<b>" in worded.hits[0].snippet.lower()
    assert worded.snippets[worded.hits[0].id] == worded.hits[0].snippet
    by_tag = lib.search.run("is:inbox sort:interest", limit=3, typing=False, tag="nothing-tagged")
    assert "#nothing-tagged" in by_tag.ranking and len(by_tag.hits) == 3
    nothing = lib.search.run("speach sort:interest", limit=5, typing=False)
    assert nothing.total == 0 and nothing.suggestion == "speech sort:interest"


def test_rows_are_looked_up_a_slice_at_a_time_unknown_papers_minus_one(topic_lib, monkeypatch):
    lib, _ = topic_lib
    monkeypatch.setattr(idlist, "ENCODED_AT_ONCE", 7)
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    ids = lib.paper_ids(order="title")[:50]
    asked = (*ids[:20], "not-a-paper", *ids[20:])
    assert cache.rows(asked).tolist() == [cache.row_of[p] for p in ids[:20]] + [-1] + \
        [cache.row_of[p] for p in ids[20:]]
    assert cache.rows(()).tolist() == []


@pytest.mark.parametrize("hashes", ["real", "colliding"])
def test_row_lookup_answers_as_the_dict_of_ids_did(hashes, monkeypatch):
    if hashes == "colliding":  # ids of one length share a hash: the runs are searched through
        monkeypatch.setattr(idlist, "id_hashes", lambda ids: np.char.str_len(ids).astype(np.uint64))
    # ids of other widths, a non-ASCII one, a paper featurised twice (two processes): its last row
    ids = ["2401.00001", "b", "é-paper", "2401.00001", "a" * 30, "c", "b", "d", "c", "2401.00002"]
    index = idlist.RowIndex(idlist.encoded_ids(ids))
    as_dict = {pid: i for i, pid in enumerate(ids)}
    asked = [*ids, "unknown", "2401.0000", "2401.000011", "a" * 31, "a" * 29, "", "é"]
    assert index.find(features.encoded_ids(asked)).tolist() == [as_dict.get(p, -1) for p in asked]
    assert [index.get(p) for p in asked] == [as_dict.get(p) for p in asked]
    assert [p in index for p in asked] == [p in as_dict for p in asked]
    assert len(index) == len(as_dict) and set(index) == set(as_dict) and dict(index.items()) == as_dict
    assert index["é-paper"] == 2 and index.get("nope", -1) == -1 and index["c"] == 8
    with pytest.raises(KeyError):
        index["unknown"]
    empty = idlist.RowIndex(idlist.encoded_ids([]))
    assert empty.find(features.encoded_ids(["x"])).tolist() == [-1] and len(empty) == 0 and list(empty) == []


def test_matrix_ids_are_one_bytes_array_and_files_read_back_the_same(topic_lib):
    lib, _ = topic_lib
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    assert cache.matrix.ids.dtype.kind == "S" and cache.row_of.ids is cache.matrix.ids  # no str per id
    listed = [pid for (pid,) in lib.conn.execute("SELECT id FROM papers")]
    assert sorted(cache.row_of) == sorted(listed)
    assert list(cache.row_of) == features.decoded_ids(cache.matrix.ids)  # in row order
    fresh = FeatureCache(lib.folder)  # from the chunk file
    fresh.refresh(lib.conn)
    assert fresh.matrix.ids.tolist() == cache.matrix.ids.tolist()
    assert fresh.rows(list(cache.row_of)).tolist() == list(range(len(listed)))


def test_cli_rank_by_a_tags_model_through_the_interest_search(topic_lib):
    lib, topic_of = topic_lib
    vision = [p for p in sorted(topic_of) if topic_of[p] == "vision"]
    lib.tag(vision[:12], ["cv"])
    lib.star([p for p in sorted(topic_of) if topic_of[p] == "rl"][:12])  # kept, but not #cv
    run = [sys.executable, "-m", "paperdesk", "--library", str(lib.folder), "rank", "--tag", "cv"]
    data = json.loads(subprocess.run([*run, "--json", "--limit", "6"], capture_output=True, text=True,
                                     check=True).stdout)
    assert "#cv" in data["model"] and data["tag"] == "cv" and data["total"] == lib.count(status="inbox")
    assert [topic_of[h["id"]] for h in data["hits"]].count("vision") >= 5
    assert [h["score"] for h in data["hits"]] == sorted((h["score"] for h in data["hits"]), reverse=True)
    out = subprocess.run([*run, "--limit", "3"], capture_output=True, text=True, check=True)
    assert len(out.stdout.splitlines()) == 3 and "#cv" in out.stderr


def _plain_fit(cache: FeatureCache, rows: np.ndarray, y: np.ndarray, weight: np.ndarray,
               bias: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The logistic regression of `model._fit` in one pass over every training entry at once (as it
    was before it ran in blocks)."""
    indptr, idx, val = cache.gather(rows)
    feats, inverse = np.unique(idx, return_inverse=True)
    w, b = np.zeros(len(feats)), float(bias)
    row_of = np.repeat(np.arange(len(rows)), np.diff(indptr))
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    val64 = val.astype(np.float64)
    for step in range(1, model_module.STEPS + 1):
        z = segment_sums(w[inverse] * val64, indptr) + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        residual = weight * (p - y)
        grad = np.bincount(inverse, weights=val64 * residual[row_of], minlength=len(feats))
        grad += model_module.L2 * w
        gb = float(residual.sum())
        m *= 0.9
        m += (1 - 0.9) * grad
        grad *= grad
        v *= 0.999
        v += (1 - 0.999) * grad
        mb = 0.9 * mb + (1 - 0.9) * gb
        vb = 0.999 * vb + (1 - 0.999) * gb * gb
        corr1, corr2 = 1 - 0.9 ** step, 1 - 0.999 ** step
        w -= (model_module.LEARNING_RATE / corr1) * m / (np.sqrt(v / corr2) + 1e-8)
        b -= model_module.LEARNING_RATE * (mb / corr1) / (np.sqrt(vb / corr2) + 1e-8)
    return feats, w.astype(np.float32), b


@pytest.mark.parametrize("held", [0, 700, 10**9])
def test_the_fit_in_blocks_learns_the_one_pass_fit_bit_for_bit(topic_lib, monkeypatch, held):
    """Training reads its rows' entries a block at a time (at 1M papers holding them all decoded
    peaked at 5 GB), held packed or read again at every step: the weights are those of one pass
    over every entry at once, to the bit, in any row order, with an empty row among them."""
    lib, _ = topic_lib
    empty = _one_paper(lib, "The", "empty")  # a stop word only: a row without entries
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    monkeypatch.setattr(model_module, "FIT_ROWS", 7)  # many blocks, the last one short
    monkeypatch.setattr(model_module, "FIT_CACHED_ENTRIES", held)
    rng = np.random.default_rng(3)
    rows = np.concatenate([rng.permutation(len(cache.row_of))[:150], cache.rows([empty])])
    assert cache.matrix.indptr[rows[-1] + 1] == cache.matrix.indptr[rows[-1]]
    y = (rng.random(len(rows)) < 0.3).astype(np.float32)
    weight = rng.random(len(rows)).astype(np.float32)
    learnt, bias = model_module._fit(cache, rows, y, weight, None, 0.25)
    feats, w, b = _plain_fit(cache, rows, y, weight, 0.25)
    assert learnt.features.tolist() == feats.tolist()
    assert learnt.values.tobytes() == w.tobytes()
    assert bias == b and np.abs(w).max() > 0.01


def test_a_chunk_file_is_read_a_block_at_a_time_keeping_what_a_plain_filter_keeps(topic_lib, monkeypatch,
                                                                                  tmp_path):
    """A chunk file's entries are read a block of rows at a time and only the kept ones appended
    (at 1M papers reading the file whole held 743 MB for the 336 MB kept): the entries and row
    lengths a plain filter gives. Merging small files (compaction) grows the first chunk's own
    arrays in place."""
    lib, _ = topic_lib
    FeatureCache(lib.folder).refresh(lib.conn)
    (path,) = (lib.folder / "rank").glob("*.npz")
    monkeypatch.setattr(features, "BLOCK_ROWS", 7)
    chunk = FeatureCache._read(path)
    assert all(a.flags.owndata and a.base is None for a in (chunk.low, chunk.high, chunk.indptr))
    idx_all, counts_all = chunk.unpack(0, len(chunk.low))
    dropped = np.zeros(DIM, dtype=bool)
    dropped[np.unique(idx_all)[::3]] = True
    keep = ~dropped[idx_all]
    rows_of = np.repeat(np.arange(len(chunk.ids)), np.diff(chunk.indptr))
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    stored = features.ChunkFile.open(copy)
    copy.unlink()  # another process compacting the files: this load still reads what it opened
    read: list[int] = []  # the entries of each read
    real_read = stored._members.read

    def counted(name: str, *span: int) -> np.ndarray:
        out = real_read(name, *span)
        read.append(len(out))
        return out

    monkeypatch.setattr(stored._members, "read", counted)
    entries = chunk_io.EntryFiles(tmp_path / "held", features.ENTRY_TYPES)
    lengths = features.append_kept(entries, stored, dropped)
    stored.close()
    assert len(read) == 2 * -(-len(chunk.ids) // 7) and max(read) < len(idx_all) / 20  # blocks of 7 rows
    low, high = entries.arrays()
    kept = features.Chunk(ids=chunk.ids, indptr=np.concatenate([[0], np.cumsum(lengths)]), low=low, high=high)
    idx, counts = kept.unpack(0, len(kept.low))
    assert idx.tolist() == idx_all[keep].tolist() and counts.tolist() == counts_all[keep].tolist()
    assert lengths.tolist() == np.bincount(rows_of[keep], minlength=len(chunk.ids)).tolist()
    low_object = chunk.low
    other = FeatureCache._read(path)
    merged = features.merge_chunks([chunk, other])
    assert merged.low is low_object and len(merged.ids) == 2 * len(other.ids)
    assert merged.unpack(len(idx_all), len(merged.low))[0].tolist() == idx_all.tolist()
    assert merged.indptr[len(other.ids)] == len(idx_all) and merged.indptr[-1] == len(merged.low)


def _has_pairs(cache: FeatureCache) -> bool:
    m = cache.matrix
    return bool((((m.high >> 4).astype(np.int32) << 16 | m.low) >= features.PAIRS).any())


def test_below_pairs_up_to_nothing_changes(topic_lib, monkeypatch):
    lib, _ = topic_lib
    default = FeatureCache(lib.folder)
    default.refresh(lib.conn)
    assert features.PAIRS_UP_TO >= 100_000 and _has_pairs(default)
    monkeypatch.setattr(features, "PAIRS_UP_TO", 240)  # this library's size: pairs still in
    at_limit = FeatureCache(lib.folder)
    at_limit.refresh(lib.conn)
    for a, b in [(default.matrix.low, at_limit.matrix.low), (default.matrix.high, at_limit.matrix.high),
                 (default.matrix.indptr, at_limit.matrix.indptr), (default.norms, at_limit.norms),
                 (default.idf(), at_limit.idf())]:
        assert np.array_equal(a, b)


def test_past_pairs_up_to_pairs_are_out_and_the_model_ranks_and_explains_with_words(topic_lib, monkeypatch):
    monkeypatch.setattr(features, "PAIRS_UP_TO", 239)
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 15)
    ranked = lib.ranker.rank(lib.paper_ids(status="inbox"), limit=20)
    cache = lib.ranker.cache
    assert not _has_pairs(cache) and (cache.idf()[features.PAIRS:] == 0).all()
    assert cache.df[features.PAIRS:].any()  # still counted: the files keep them
    assert any(_has_pairs(_as_cache(FeatureCache._read(path))) for path in cache._chunk_files())
    assert [topic_of[p] for p in ranked.ids].count("rl") >= 18
    reasons = lib.ranker.explain(lib.get(ranked.ids[0]))
    ups, downs = lib.ranker.words()
    assert any(set(r.name.split()) & set(TOPICS["rl"].split()) for r in reasons if r.weight > 0), reasons
    for r in [*reasons, *ups, *downs]:
        assert r.name.startswith("+") or " " not in r.name, r  # a word, an org or an author: no pair


def _as_cache(chunk: features.Chunk | None) -> FeatureCache:
    holder = FeatureCache.__new__(FeatureCache)
    holder.matrix = chunk
    return holder


def test_a_live_cache_growing_past_pairs_up_to_takes_pairs_out_of_every_row(topic_lib, monkeypatch):
    monkeypatch.setattr(features, "PAIRS_UP_TO", 240)
    lib, _ = topic_lib
    cache = FeatureCache(lib.folder)
    cache.refresh(lib.conn)
    assert _has_pairs(cache)
    pid = _one_paper(lib, "Reinforcement policy reward agent", "cross")
    assert cache.refresh(lib.conn) == 1 and len(cache.row_of) == 241
    assert not _has_pairs(cache) and len(cache.row(cache.row_of[pid])[0])
    fresh = FeatureCache(lib.folder)
    fresh.refresh(lib.conn)
    assert not _has_pairs(fresh) and not fresh.idf()[features.PAIRS:].any()


def _plain_matrix(folder) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The matrix as a load made it before it read in blocks: every chunk file read whole (np.load),
    the rows joined in file order, the features too common or too rare for all of them dropped."""
    ids, lows, highs, lengths = [], [], [], []
    for path in sorted((folder / "rank").glob(f"v{features.CACHE_VERSION}-*.npz")):
        with np.load(path) as data:
            ids += str(data["ids"]).split("\n")
            lows.append(data["low"])
            highs.append(data["high"])
            lengths.append(np.diff(data["indptr"]))
    low, high, lengths = np.concatenate(lows), np.concatenate(highs), np.concatenate(lengths)
    idx = (high >> 4).astype(np.int32) << 16 | low
    df = np.bincount(idx, minlength=DIM)  # a row has a feature once
    n = len(ids)
    dropped = (df > features.DROP_DF * n) | (df < features.MIN_DF)
    dropped[features.PAIRS:] |= n > features.PAIRS_UP_TO
    keep = ~dropped[idx]
    rows_of = np.repeat(np.arange(n), lengths)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows_of[keep], minlength=n))])
    return ids, indptr, low[keep], high[keep]


@pytest.mark.parametrize("pairs_up_to", [10**6, 100])
def test_a_load_in_blocks_into_mapped_files_ranks_as_the_load_read_whole_did(topic_lib, monkeypatch,
                                                                             pairs_up_to):
    """Read a block of rows at a time from two chunk files (one written by another process) into
    files the process maps: the matrix a whole-file load made, entry for entry, and the scores of a
    ranking bit for bit those of the matrix held in anonymous memory."""
    monkeypatch.setattr(features, "PAIRS_UP_TO", pairs_up_to)
    lib, topic_of = topic_lib
    FeatureCache(lib.folder).refresh(lib.conn)
    other = Library.open(lib.folder)
    try:
        rng = random.Random(4)
        other.import_batch(SourceBatch("digest", "more", "/more", "2026-11-22", "h-more",
                                       [_paper(rng, "graphs", 900 + k) for k in range(30)]))
        other.ranker.refresh()  # another process's chunk file
    finally:
        other.close()
    assert len(list((lib.folder / "rank").glob("*.npz"))) == 2
    _decide(lib, topic_of, "speech", 12)
    monkeypatch.setattr(features, "BLOCK_ROWS", 7)
    monkeypatch.setattr(features, "SCORE_ROWS", 5)
    monkeypatch.setattr(features, "RELEASE_ENTRIES", 100)  # pages let go along every pass, reread after
    monkeypatch.setattr(features, "SCATTERED_ROWS", 3)  # the fit reads 3 rows at a time, pages go between
    released: list[tuple[int, int | None]] = []
    real_release = chunk_io.EntryFiles.release

    def release(self: chunk_io.EntryFiles, start: int = 0, stop: int | None = None) -> None:
        released.append((start, stop))
        real_release(self, start, stop)

    monkeypatch.setattr(chunk_io.EntryFiles, "release", release)
    mapped = Ranker(lib.folder, lib.conn)
    mapped.cache.refresh(lib.conn)
    assert len([r for r in released if r[1] is not None]) > 5  # along the norms' pass
    m = mapped.cache.matrix
    ids, indptr, low, high = _plain_matrix(lib.folder)
    assert features.decoded_ids(m.ids) == ids and m.indptr.tolist() == indptr.tolist()
    assert m.low.tolist() == low.tolist() and m.high.tolist() == high.tolist()
    assert mapped.cache._entries.mapped and not m.low.flags.writeable and not m.low.flags.owndata
    monkeypatch.setattr(features, "MAP_ENTRIES", False)
    held = Ranker(lib.folder, lib.conn)
    held.cache.refresh(lib.conn)
    assert not held.cache._entries.mapped and held.cache.matrix.low.flags.writeable
    inbox = lib.paper_ids(status="inbox")
    released.clear()
    assert mapped.model().kind == "model"
    assert len([r for r in released if r[1] is None]) > 3  # the fit's scattered rows, each whole pass
    assert mapped.scores(inbox).tobytes() == held.scores(inbox).tobytes()
    assert mapped.cache.norms.tobytes() == held.cache.norms.tobytes()


def _torn(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _foreign(path) -> None:  # the right names, other types
    np.savez(path, ids=np.asarray("a\nb"), indptr=np.array([0, 1, 2]), low=np.array([1, 2], np.int32),
             high=np.array([1, 1], np.uint8))


def _compressed(path) -> None:
    with np.load(path) as data:
        arrays = dict(data)
    np.savez_compressed(path, **arrays)


def _rows_past_the_entries(path) -> None:
    with np.load(path) as data:
        arrays = dict(data)
    arrays["indptr"] = arrays["indptr"].copy()
    arrays["indptr"][-1] += 5
    np.savez(path, **arrays)


@pytest.mark.parametrize("spoil", [_torn, _foreign, _compressed, _rows_past_the_entries])
def test_a_torn_or_foreign_chunk_file_has_its_papers_featurised_again(topic_lib, spoil):
    lib, _ = topic_lib
    FeatureCache(lib.folder).refresh(lib.conn)
    (path,) = (lib.folder / "rank").glob("*.npz")
    spoil(path)
    assert features.ChunkFile.open(path) is None and FeatureCache._read(path) is None
    fresh = FeatureCache(lib.folder)
    assert fresh.refresh(lib.conn) == 240 and len(fresh.row_of) == 240


def _names(lib: Library) -> list[str]:
    return sorted(p.name for p in (lib.folder / "rank").iterdir())


def test_a_days_papers_are_appended_and_each_process_maps_files_only_it_has(topic_lib):
    """New papers' rows are appended to the mapped files (the rows already in are not written
    again); the files have no name (nothing another process could open or a crash could leave);
    two caches of one library (two processes) each keep their own."""
    lib, _ = topic_lib
    desk, cli = FeatureCache(lib.folder), FeatureCache(lib.folder)
    desk.refresh(lib.conn)
    cli.refresh(lib.conn)
    assert all(name.startswith(f"v{features.CACHE_VERSION}-") and name.endswith(".npz")
               for name in _names(lib))
    files = [os.fstat(fh.fileno()) for c in (desk, cli) for fh in c._entries._files]
    assert all(f.st_nlink == 0 for f in files) and len({(f.st_dev, f.st_ino) for f in files}) == 4
    entries, before = desk._entries, desk.matrix.low.copy()
    cli_low = cli.matrix.low
    pid = _one_paper(lib, "Reinforcement policy reward agent exploration", "day")
    assert desk.refresh(lib.conn) == 1
    assert desk._entries is entries and len(desk.matrix.low) > len(before)  # appended, not rewritten
    assert desk.matrix.low[:len(before)].tobytes() == before.tobytes()
    assert len(desk.row(desk.row_of[pid])[0]) > 3
    assert cli.matrix.low is cli_low and len(cli_low) == len(before)  # the other's mapping is its own
    assert cli.refresh(lib.conn) == 0  # the desk's new chunk file, read
    assert cli.row(cli.row_of[pid])[0].tolist() == desk.row(desk.row_of[pid])[0].tolist()
    assert all(name.startswith(f"v{features.CACHE_VERSION}-") for name in _names(lib))


class _FillingFile:
    """A temporary file on a disk that fills after `room` bytes."""

    def __init__(self, room: int):
        self._fh, self.room = tempfile.TemporaryFile(), room  # noqa: SIM115 (closed by the cache)

    def write(self, data) -> int:
        size = memoryview(data).nbytes
        if size > self.room:
            raise OSError(28, "No space left on device")
        self.room -= size
        return self._fh.write(data)

    def __getattr__(self, name: str):
        return getattr(self._fh, name)


@pytest.mark.parametrize("room", [None, 0, 5000])
def test_where_no_file_can_be_made_or_the_disk_fills_the_matrix_is_held_in_memory(topic_lib, monkeypatch,
                                                                                  room):
    lib, _ = topic_lib
    monkeypatch.setattr(features, "BLOCK_ROWS", 7)  # many appends (the norms' sums too are made per block)
    mapped = FeatureCache(lib.folder)
    mapped.refresh(lib.conn)

    def temporary_file(**_kwargs: object) -> _FillingFile:
        if room is None:
            raise PermissionError(13, "Permission denied")
        return _FillingFile(room)

    monkeypatch.setattr(chunk_io, "tempfile", types.SimpleNamespace(TemporaryFile=temporary_file))
    held = FeatureCache(lib.folder)
    assert held.refresh(lib.conn) == 0 and not held._entries.mapped
    for a, b in [(mapped.matrix.low, held.matrix.low), (mapped.matrix.high, held.matrix.high),
                 (mapped.matrix.indptr, held.matrix.indptr), (mapped.norms, held.norms)]:
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("ids", [["2401.00001", "é-paper", "b"], ["2401.00001", "a" * 40], []])
def test_chunk_files_written_a_piece_at_a_time_are_what_np_savez_writes(tmp_path, monkeypatch, ids):
    """Chunk files are written a piece of entries at a time (the featurising child never holds a
    library's entries: 743 MB at 1M papers), as np.savez would write them: np.load reads the same
    arrays, and they are read back with their ids."""
    monkeypatch.setattr(features, "WRITE_ENTRIES", 5)
    hasher = features.Hasher()
    rows = [(pid, f"Title {k} policy", "reward agent graph", None, "[]") for k, pid in enumerate(ids)]
    chunk = features.build_chunk(rows, hasher)
    cache = FeatureCache(tmp_path)
    path = cache.dir / cache._write(chunk)
    plain = tmp_path / "plain.npz"
    np.savez(plain, ids=np.asarray("\n".join(ids)), indptr=chunk.indptr, low=chunk.low, high=chunk.high)
    with np.load(path) as written, np.load(plain) as expected:
        assert sorted(written.files) == sorted(expected.files)
        for name in expected.files:
            assert written[name].dtype == expected[name].dtype and written[name].shape == expected[name].shape
            assert written[name].tobytes() == expected[name].tobytes()
    stored = features.ChunkFile.open(path)
    assert stored is not None and features.decoded_ids(stored.ids) == ids
    again = stored.read()
    stored.close()
    assert again.indptr.tolist() == chunk.indptr.tolist() and again.low.tobytes() == chunk.low.tobytes()
    assert again.high.tobytes() == chunk.high.tobytes()


def _resident_kb_of_the_matrix(cache: FeatureCache) -> int:
    """Resident memory of the mappings of the cache's entry files (/proc/self/smaps)."""
    inodes = {os.fstat(fh.fileno()).st_ino for fh in cache._entries._files}
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if re.match(r"[0-9a-f]+-[0-9a-f]+$", fields[0]):  # a mapping's first line
                inside = len(fields) > 4 and int(fields[4]) in inodes
            elif inside and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux's /proc/self/smaps")
def test_the_matrix_pages_leave_resident_memory_after_each_whole_pass(topic_lib):
    """Between retrainings the desk holds the matrix's ids and norms, not its entries: after the
    load's pass and after each scoring the mapped pages are let go (they stay in the page cache)."""
    lib, topic_of = topic_lib
    _decide(lib, topic_of, "rl", 12)
    cache = lib.ranker.cache
    cache.refresh(lib.conn)
    assert cache._entries.mapped and _resident_kb_of_the_matrix(cache) == 0
    weights = np.random.default_rng(5).normal(size=DIM).astype(np.float32)
    before = cache.score_all(weights)
    cache.row(len(cache.row_of) - 1)  # an explanation reads one row: its page comes back
    assert _resident_kb_of_the_matrix(cache) > 0
    ranked = lib.ranker.rank(lib.paper_ids(status="inbox"), limit=10)
    assert _resident_kb_of_the_matrix(cache) == 0 and ranked.model.kind == "model"
    assert cache.score_all(weights).tobytes() == before.tobytes()
    assert [topic_of[p] for p in ranked.ids].count("rl") >= 8


def test_what_crashed_processes_left_in_the_cache_folder_goes_and_a_fresh_write_stays(topic_lib):
    lib, _ = topic_lib
    folder = lib.folder / "rank"
    folder.mkdir(parents=True, exist_ok=True)
    old_tmp, young_tmp, named_matrix = (folder / ".v3-old.npz.tmp", folder / ".v3-young.npz.tmp",
                                        folder / ".matrix-abc123")
    for path in (old_tmp, young_tmp, named_matrix):
        path.write_bytes(b"left")
    two_hours_ago = time.time() - 7200
    os.utime(old_tmp, (two_hours_ago, two_hours_ago))
    cache = FeatureCache(lib.folder)
    assert cache.refresh(lib.conn) == 240
    assert not old_tmp.exists() and not named_matrix.exists()
    assert young_tmp.exists()  # maybe another process's chunk file being written
