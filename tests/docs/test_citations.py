#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Every "protocol.md §N.M" citation in the tree resolves to a heading of
docs/protocol.md, and that page keeps the section numbering the code cites.

A citation is "protocol.md" followed by section numbers (with or without §,
joined by , / - – "and"), or a bare "§N.M" anywhere (the project's shorthand
for protocol.md), except after "RFC nnnn" or another document's name.
"§A-§B" ranges are expanded. A section resolves when docs/protocol.md has a
heading "## N. ...", "### N.M ..." or "#### N.M.K ...". Also: the page keeps
the shared numbering, every decisions.md topic it points to exists, and the
README links it. Env: SMPDFU_SOURCE."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import SOURCE as SRC, Tally  # noqa: E402

DOC = os.path.join(SRC, "docs", "protocol.md")
SCAN = ["src", "include", "tools", "tests", "scripts", "docs", "bench", "cmake", "README.md", "CMakeLists.txt"]
SKIP_DIRS = {"corpus", "build", ".git", "__pycache__"}

# The numbering of the shared reference the code was written against; the
# page must keep all of it (renumbering would silently change what citations mean).
REQUIRED = ["0", "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2", "2.1", "2.2", "2.3",
            "2.4", "2.5", "3", "4", "4.1", "4.2", "4.3", "4.3.1", "4.4", "4.5", "4.6", "5",
            "5.1", "5.2", "5.3", "6", "6.1", "6.2", "6.3", "6.4", "6.5", "7", "7.1", "7.2",
            "7.3", "7.4", "7.5", "7.6", "8", "9", "10", "11", "12"]

NUM = r"\d+(?:\.\d+)*"
SEP = r"\s*(?:,|/|-|–|\band\b)\s*"
HEADING = re.compile(r"^#{1,6}\s+(" + NUM + r")\.?\s")
AFTER_DOC = re.compile(r"protocol\.md\s*(§?)(" + NUM + r")((?:" + SEP + r"§?" + NUM + r")*)")
BARE = re.compile(r"§(" + NUM + r")(?:\s*[-–]\s*§(" + NUM + r"))?")
OTHER_DOC = re.compile(r"(?:\bRFC\s*\d+|[\w./-]+\.(?:md|rst|txt|pdf))\s*\(?$")

TALLY = Tally()
check = TALLY.check


def key(ref):
    return tuple(int(x) for x in ref.split("."))


def expand(a, b):
    """§a-§b: every section from a to b at the same depth and parent."""
    ka, kb = key(a), key(b)
    if len(ka) != len(kb) or ka[:-1] != kb[:-1] or kb[-1] < ka[-1] or kb[-1] - ka[-1] > 20:
        return [a, b]
    return [".".join(str(x) for x in ka[:-1] + (i,)) for i in range(ka[-1], kb[-1] + 1)]


def citations(line):
    """Section numbers cited on one line of text."""
    refs = set()
    for m in AFTER_DOC.finditer(line):
        first_has_mark = m.group(1) == "§"
        items = [m.group(2)]
        seps = []
        rest = m.group(3)
        for sm in re.finditer(r"(" + SEP + r")(§?)(" + NUM + r")", rest):
            if first_has_mark and sm.group(2) != "§":
                break  # "§6, 2 images": only §-marked numbers continue a § list
            seps.append(sm.group(1).strip())
            items.append(sm.group(3))
        out = [items[0]]
        for s, it in zip(seps, items[1:]):
            if s in ("-", "–"):
                out.extend(expand(out[-1], it)[1:])
            else:
                out.append(it)
        refs.update(out)
    for m in BARE.finditer(line):
        before = line[:m.start()].rstrip()
        if OTHER_DOC.search(before) and not before.endswith("protocol.md"):
            continue
        if m.group(2):
            refs.update(expand(m.group(1), m.group(2)))
        else:
            refs.add(m.group(1))
    return refs


def headings(text):
    out = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        m = HEADING.match(line)
        if m and not in_code:
            out.append(m.group(1))
    return out


def files():
    for top in SCAN:
        path = os.path.join(SRC, top)
        if os.path.isfile(path):
            yield path
            continue
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for n in sorted(names):
                yield os.path.join(root, n)


def self_test():
    """The parser finds what a reader would, and no more."""
    cases = [
        ("/* SMP header (protocol.md §1) and the words (§2). */", {"1", "2"}),
        ("following smp.c, protocol.md §1.5/§2. */", {"1.5", "2"}),
        ("\"\"\"image upload (protocol.md §4.3-§4.5).\"\"\"", {"4.3", "4.4", "4.5"}),
        ("like a real target (protocol.md §1–§4, §7), so", {"1", "2", "3", "4", "7"}),
        ("oracle for the console framing (protocol.md 5.1).", {"5.1"}),
        (" * protocol.md §1 and §2.", {"1", "2"}),
        ("/* First matching row wins (§7.5 rows 1-3). */", {"7.5"}),
        ("/* RFC 4648 §10 vectors */", set()),
        ("see architecture.md §3 for that", set()),
        ("protocol.md §6, 2 images and more", {"6"}),
        ("#### 4.3.1 is not a citation", set()),
    ]
    for text, want in cases:
        got = citations(text)
        check(got == want, "parser: %r -> %s, want %s" % (text, sorted(got), sorted(want)))
    h = headings("# Title\n## 1. A\n### 1.1 B\n```\n## 9. in code\n```\n#### 4.3.1 C\n")
    check(h == ["1", "1.1", "4.3.1"], "heading parser: %s" % h)


def main():
    self_test()
    try:
        with open(DOC, encoding="utf-8") as f:
            doc = f.read()
    except OSError as e:
        check(False, "docs/protocol.md is readable (%s)" % e)
        TALLY.summary()
        return 1
    secs = headings(doc)
    have = set(secs)
    check(len(secs) == len(have), "every section number appears once as a heading: %s" %
          sorted({s for s in secs if secs.count(s) > 1}, key=key))
    check(secs == sorted(secs, key=key), "sections are in order")
    for r in REQUIRED:
        check(r in have, "docs/protocol.md keeps section %s" % r)
    check("99.9" not in have, "a made-up section does not resolve")

    total = 0
    citing = set()
    for path in files():
        if os.path.abspath(path) in (os.path.abspath(DOC), os.path.abspath(__file__)):
            continue  # the page itself, and this file's parser examples
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        rel = os.path.relpath(path, SRC)
        for no, line in enumerate(lines, 1):
            for ref in sorted(citations(line), key=key):
                total += 1
                citing.add(rel)
                check(ref in have, "%s:%d cites protocol.md §%s, which has no heading" % (rel, no, ref))
    # The tree cites the page from some twenty files; an empty scan means the
    # scan is broken, not that everything resolves.
    check(len(citing) >= 20, "citations found in %d files (expected at least 20)" % len(citing))
    print("%d citations in %d files" % (total, len(citing)))

    # protocol.md points to decisions.md rows by their topic, e.g.
    # (decisions.md, "Lost frames"): each quoted topic must still be there.
    with open(os.path.join(SRC, "docs", "decisions.md"), encoding="utf-8") as f:
        decisions = f.read()
    flat = re.sub(r"\s+", " ", doc)
    topics = set()
    for m in re.finditer(r"decisions\.md[^)]*\)", flat):
        topics.update(re.findall(r'"([^"]+)"', m.group(0)))
    check(len(topics) >= 10, "protocol.md names decisions.md topics (%d found)" % len(topics))
    for t in sorted(topics):
        check(t in decisions, "decisions.md has the topic protocol.md points to: %r" % t)

    readme = os.path.join(SRC, "README.md")
    with open(readme, encoding="utf-8") as f:
        check("](docs/protocol.md)" in f.read(), "README links docs/protocol.md")

    return TALLY.summary()


if __name__ == "__main__":
    sys.exit(main())
