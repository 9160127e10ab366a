#!/usr/bin/env python3
"""Regression check of PocketBun against PocketBase's own API test scenarios.

Runs the calibrated pbreplay set (shared/pbreplay/replay.py --calibrated) against
a server binary and compares the result with tests/pbreplay/passing.txt, the list
of scenario ids that PocketBun is known to pass:

  * a listed scenario that now fails is a REGRESSION: they are listed and the
    exit status is 1;
  * scenarios that pass but are not listed yet are reported as new passes;
    --update adds them to passing.txt (it never removes an id);
  * --prune removes listed ids that are no longer in the calibrated set.

  check.py [--bin BIN] [--only REGEX] [--update] [--prune] [--json OUT] [-v]

BIN defaults to $POCKETBUN_BIN, then to ${CARGO_TARGET_DIR:-<repo>/target}/release/pocketbun.
The shared dir (pbreplay + fixture) is $POCKETBUN_SHARED, else <repo>/../shared.
Python 3 standard library only.

Exit status: 0 no regression, 1 regression(s), 2 usage or harness error.
"""

import argparse
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PASSING = os.path.join(HERE, "passing.txt")


def shown(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def die(msg, code=2):
    print("check.py: error: " + msg, file=sys.stderr)
    sys.exit(code)


def origin_dir(repo):
    """The local directory this repo was cloned from, if any (a clone made with
    `git clone . /tmp/x` has its shared/ beside the origin, not beside itself)."""
    try:
        url = subprocess.run(["git", "-C", repo, "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if url.startswith("file://"):
        url = url[len("file://"):]
    if url and os.path.isabs(url) and os.path.isdir(url):
        return url
    return None


def shared_dir():
    env = os.environ.get("POCKETBUN_SHARED")
    if env:
        return os.path.abspath(env)
    default = os.path.normpath(os.path.join(REPO, "..", "shared"))
    if os.path.isdir(default):
        return default
    origin = origin_dir(REPO)
    if origin:
        alt = os.path.normpath(os.path.join(origin, "..", "shared"))
        if os.path.isdir(alt):
            print("note: %s missing, using %s (beside this clone's origin)" % (default, alt), file=sys.stderr)
            return alt
    return default


def default_bin():
    env = os.environ.get("POCKETBUN_BIN")
    if env:
        return env
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    if not os.path.isabs(target):
        target = os.path.join(REPO, target)
    return os.path.join(target, "release", "pocketbun")


# ---------------------------------------------------------------------------
# passing.txt: one id per line, sorted; blank lines and `#` comments (whole
# line or after an id) allowed. Edits keep every other line as it is.

def line_id(line):
    return line.split("#", 1)[0].strip()


def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def listed_ids(lines):
    return [i for i in map(line_id, lines) if i]


def write_list(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + ("\n" if lines else ""))
    os.replace(tmp, path)


def add_ids(lines, new_ids):
    """Insert each id at its sorted place among the id lines."""
    lines = list(lines)
    for new in sorted(new_ids):
        pos = len(lines)
        for k, line in enumerate(lines):
            i = line_id(line)
            if i and i > new:
                pos = k
                # keep a comment block that introduces the next id attached to it
                while pos > 0 and lines[pos - 1].lstrip().startswith("#") and any(line_id(x) for x in lines[:pos - 1]):
                    pos -= 1
                break
        lines.insert(pos, new)
    return lines


def remove_ids(lines, gone):
    return [line for line in lines if line_id(line) not in gone]


# ---------------------------------------------------------------------------

LOG_LINE = re.compile(r"^(PASS|FAIL) (\S+)(.*)$")


def results_from_log(log_path, start):
    """Rebuilds replay.py's result list from its PASS/FAIL lines (from byte offset start)."""
    results = []
    with open(log_path, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        for line in f:
            m = LOG_LINE.match(line.rstrip("\n"))
            if m:
                rest = m.group(3).split("  -- ", 1)
                results.append({"id": m.group(2), "pass": m.group(1) == "PASS",
                                "problems": [rest[1]] if len(rest) > 1 else []})
    return {"results": results}


def run_replay(args, shared, binary, only, json_path, log_path):
    replay = os.path.join(shared, "pbreplay", "replay.py")
    cmd = [sys.executable, replay, "--bin", binary, "--data", os.path.join(shared, "fixtures", "pocketbase-testdata"),
           "--calibrated", "--json", json_path]
    if only:
        cmd += ["--only", only]
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    if args.verbose:
        cmd.append("-v")
    start = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, text=True, errors="replace")
        try:
            for line in proc.stdout:
                log.write(line)
                if args.verbose:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            raise
    if os.path.exists(json_path):
        try:
            with open(json_path, encoding="utf-8") as f:
                return json.load(f)
        except ValueError:
            pass
    # replay.py can crash while writing its JSON (e.g. a binary failure body that is not
    # valid UTF-8); its per-scenario PASS/FAIL lines are complete by then.
    doc = results_from_log(log_path, start)
    if doc["results"]:
        return doc
    if rc not in (0, 1) or not os.path.exists(json_path):
        die("replay.py exited with status %d and %s (log: %s)"
            % (rc, "wrote no --json output" if not os.path.exists(json_path) else "an unexpected status", log_path))
    with open(json_path, encoding="utf-8") as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--bin", default=None, help="server binary (default: $POCKETBUN_BIN, else the release build)")
    p.add_argument("--passing", default=PASSING, help="the list of known passes (default: %(default)s)")
    p.add_argument("--only", help="regex passed to replay.py --only (then only those scenarios are checked)")
    p.add_argument("--update", action="store_true", help="add newly passing ids to the list (never removes)")
    p.add_argument("--prune", action="store_true", help="remove listed ids that are not in the calibrated set")
    p.add_argument("--json", dest="json_out", help="also keep replay.py's per-scenario JSON here")
    p.add_argument("--log", help="also keep replay.py's PASS/FAIL lines here")
    p.add_argument("--jobs", type=int, help="replay.py --jobs (default: replay.py's own)")
    p.add_argument("--retries", type=int, default=1,
                   help="re-run regressions this many times; one that then passes is reported as flaky "
                        "and does not fail the check (default: %(default)s)")
    p.add_argument("--show-failures", action="store_true",
                   help="list every failing scenario (not only regressions) with its problems")
    p.add_argument("-v", "--verbose", action="store_true", help="stream replay.py's output (and failing bodies)")
    args = p.parse_args()

    if args.prune and args.only:
        die("--prune needs the whole calibrated set: do not combine it with --only")

    shared = shared_dir()
    if not os.path.isfile(os.path.join(shared, "pbreplay", "replay.py")):
        die("no pbreplay at %s (set POCKETBUN_SHARED to the shared/ dir)" % os.path.join(shared, "pbreplay"))
    if not os.path.isdir(os.path.join(shared, "fixtures", "pocketbase-testdata")):
        die("no fixture at %s" % os.path.join(shared, "fixtures", "pocketbase-testdata"))

    binary = args.bin or default_bin()
    if os.sep not in binary:
        binary = shutil.which(binary) or binary
    binary = os.path.abspath(binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        die("server binary %s does not exist or is not executable (build it, or pass --bin / set POCKETBUN_BIN)" % binary)

    lines = read_list(args.passing)
    listed = listed_ids(lines)
    listed_set = set(listed)
    dupes = len(listed) - len(listed_set)

    tmp = tempfile.mkdtemp(prefix="pbreplay-check-")
    try:
        json_path = os.path.join(tmp, "replay.json")
        log_path = args.log or os.path.join(tmp, "replay.log")
        if args.log:
            open(log_path, "w").close()
        print("pbreplay: replaying the calibrated set against %s%s"
              % (binary, " (--only %s)" % args.only if args.only else ""), flush=True)
        t0 = time.monotonic()
        doc = run_replay(args, shared, binary, args.only, json_path, log_path)
        seconds = time.monotonic() - t0
        if args.json_out:
            os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
            shutil.copyfile(json_path, args.json_out)

        results = {r["id"]: r for r in doc["results"]}
        ran = set(results)
        passed = {i for i, r in results.items() if r["pass"]}
        failed = ran - passed

        regressions = sorted(listed_set & failed)
        flaky = []
        for attempt in range(args.retries):
            if not regressions:
                break
            print("pbreplay: %d listed scenario(s) failed, re-running them (retry %d of %d)"
                  % (len(regressions), attempt + 1, args.retries), flush=True)
            rpath = os.path.join(tmp, "retry%d.json" % attempt)
            only = "^(" + "|".join(re.escape(i) for i in regressions) + ")$"
            rdoc = run_replay(args, shared, binary, only, rpath, log_path)
            for r in rdoc["results"]:
                if r["pass"] and r["id"] in regressions:
                    flaky.append(r["id"])
            regressions = [i for i in regressions if i not in set(flaky)]

        new_passes = sorted(passed - listed_set)
        # ids that replay.py did not run: gone from calibration.json, or skipped
        # because their scenario changed since calibration (replay.py warns)
        missing = sorted(listed_set - ran) if not args.only else []

        if args.show_failures:
            for i in sorted(failed):
                r = results[i]
                print("FAIL %s  -- %s" % (i, "; ".join(r["problems"]).replace("\n", " | ")))

        if flaky:
            print()
            print("FLAKY: %d listed scenario(s) failed, then passed on a retry:" % len(flaky))
            for i in sorted(flaky):
                r = results[i]
                print("  %s  -- %s" % (i, "; ".join(r["problems"]).replace("\n", " | ")[:300]))
        if regressions:
            print()
            print("REGRESSIONS: %d scenario(s) listed in %s fail now:" % (len(regressions), shown(args.passing)))
            for i in regressions:
                r = results[i]
                print("  %s  [%s] %s\n      -- %s" % (i, r.get("test", ""), r.get("name", ""),
                                                    "; ".join(r["problems"]).replace("\n", " | ")[:500]))
        if missing:
            print()
            print("warning: %d listed id(s) are not in the calibrated set any more (--prune removes them): %s"
                  % (len(missing), ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")))
        if dupes:
            print("warning: %s lists %d id(s) twice" % (shown(args.passing), dupes))

        changed = False
        if args.update and new_passes:
            lines = add_ids(lines, new_passes)
            changed = True
        if args.prune and missing:
            lines = remove_ids(lines, set(missing))
            changed = True
        if changed:
            write_list(args.passing, lines)

        print()
        print("pbreplay summary (%s, %.1f s):" % (os.path.basename(binary), seconds))
        print("  calibrated scenarios run:   %d%s" % (len(ran), " (--only %s)" % args.only if args.only else ""))
        print("  listed in passing.txt:      %d (%d of them run now)" % (len(listed_set), len(listed_set & ran)))
        print("  regressions:                %d%s" % (len(regressions), " (+%d flaky)" % len(flaky) if flaky else ""))
        if args.update:
            print("  new passes added:           %d" % len(new_passes))
        else:
            print("  new passes not yet listed:  %d%s"
                  % (len(new_passes), " (add them with --update)" if new_passes else ""))
        if args.prune:
            print("  pruned ids:                 %d" % len(missing))
        if args.log:
            print("  replay log:                 %s" % args.log)
        if args.json_out:
            print("  replay json:                %s" % args.json_out)
        print("pbreplay: %d passed, %d failed" % (len(passed), len(failed)))
        if regressions:
            print("RESULT: FAIL, %d regression(s)" % len(regressions))
            return 1
        print("RESULT: OK, no regression")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
