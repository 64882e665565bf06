"""
The per-module report of C{make mutate} (docs/mutation.md): reads the
results mutmut left under C{mutants/} and prints, for each mutated module,
its mutants, how many the tests killed, how many are equivalent (listed in
L{EQUIVALENT}, left out of the score) and the score. It exits with status 1
if a module scores under L{TARGET}, or if a mutant listed as equivalent was
killed or no longer exists (the list must then be checked again).

Run from the checkout after C{mutmut run}: C{python -m tests.mutation}.
"""

import json
import sys
from pathlib import Path

TARGET = 90.0
"""The lowest score, in per cent, a module may have."""

KILLED = frozenset({1, 3})
"""mutmut's exit codes for a mutant the tests noticed (3: pytest's internal error)."""

TIMEOUT = frozenset({24, -24, 152, 255, 36})
"""mutmut's exit codes for a mutant stopped for running too long: a loop
that never ends is noticed too."""

EQUIVALENT = {
    "services.sessionserver.glob.x__byteClass__mutmut_6":
        "an empty set's never-matching (?!) wrapped in XX still never matches",
    "services.sessionserver.glob.x__byteClass__mutmut_12":
        "upper-case hex digits in a \\x escape mean the same byte",
    "services.sessionserver.glob.x__runs__mutmut_7":
        "members are sorted and distinct, so the last run never ends at c + 1: "
        "every byte its own run, the same set",
    "services.sessionserver.glob.x__tokens__mutmut_12":
        "_STAR is None: appending None is appending _STAR",
    "appserver.web.router.x__shapeKey__mutmut_8":
        "the shape key's text marker only has to differ from the converter names",
    "appserver.web.router.x__shapeKey__mutmut_9":
        "the shape key's text marker only has to differ from the converter names",
    "appserver.web.router.x__text__mutmut_3":
        "Python's codec names are case-insensitive",
    "appserver.web.router.x_parsePattern__mutmut_23":
        "Python's codec names are case-insensitive",
    "appserver.web.router.xǁRouterǁmount__mutmut_4":
        "Python's codec names are case-insensitive",
    "appserver.web.router.xǁRouterǁadd__mutmut_9":
        "Python's codec names are case-insensitive",
    "appserver.web.router.x_parsePattern__mutmut_40":
        "only the literal and path labels are compared; any other label is dynamic",
    "appserver.web.router.x_parsePattern__mutmut_41":
        "only the literal and path labels are compared; any other label is dynamic",
    "appserver.web.router.xǁRouterǁ_lookupDynamic__mutmut_37":
        "names and values always have the same length; strict only guards it",
    "appserver.web.router.xǁRouterǁ_lookupDynamic__mutmut_40":
        "names and values always have the same length; strict only guards it",
    "appserver.web.router.xǁRouterǁ_lookupDynamic__mutmut_41":
        "names and values always have the same length; strict only guards it",
    "appserver.web.router.xǁ_SegmentMatcherǁvalues__mutmut_7":
        "converters and groups always have the same length; strict only guards it",
    "appserver.web.router.xǁ_SegmentMatcherǁvalues__mutmut_10":
        "converters and groups always have the same length; strict only guards it",
    "appserver.web.router.xǁ_SegmentMatcherǁvalues__mutmut_11":
        "converters and groups always have the same length; strict only guards it",
    "appserver.web.router.xǁRouterǁallowed__mutmut_2":
        "allowed() looks up with a method no route has: None is one too",
    "appserver.web.router.xǁRouterǁallowed__mutmut_6":
        "allowed() looks up with a method no route has: b'XX\\0XX' is one too",
    "appserver.sessions.signing.x__toBytes__mutmut_5":
        "Python's codec names are case-insensitive",
    "appserver.sessions.signing.x_loadOrCreateSecret__mutmut_20":
        "Python's codec names are case-insensitive",
    "appserver.sessions.signing.xǁSignerǁ_mac__mutmut_11":
        "Python's codec names are case-insensitive",
    "appserver.sessions.signing.xǁSignerǁ_mac__mutmut_20":
        "Python's codec names are case-insensitive",
    "appserver.sessions.signing.xǁSignerǁunsign__mutmut_7":
        "Python's codec names are case-insensitive",
    "appserver.sessions.signing.xǁSignerǁ_mac__mutmut_13":
        "hashlib's digest names are case-insensitive",
    "appserver.sessions.signing.x_loadOrCreateSecret__mutmut_17":
        "token_urlsafe(None) takes secrets.DEFAULT_ENTROPY, 32 bytes",
    "appserver.sessions.signing.xǁSignerǁ_mac__mutmut_18":
        "a 32-byte digest's last base64url character carries 4 bits (one of AEIMQUYcgkosw048), "
        "never X",
    "appserver.sessions.signing.xǁSignerǁ_verify__mutmut_3":
        "with two dots either the id (rpartition) or the signature (partition) holds a dot, and "
        "both are refused",
    "services.sessionserver.keyspace.x__absoluteMillis__mutmut_8":
        "EX's early bound only short-cuts: Python integers do not overflow, and the check after "
        "adding now refuses the same values with the same error",
    "services.sessionserver.keyspace.x__absoluteMillis__mutmut_9":
        "EX's early bound only short-cuts: Python integers do not overflow, and the check after "
        "adding now refuses the same values with the same error",
    "services.sessionserver.keyspace.x__expireOptions__mutmut_19":
        "Python's codec names are case-insensitive",
    "services.sessionserver.keyspace.x__ttlMillis__mutmut_16":
        "a key still present expires after now, so the max() never applies",
    "services.sessionserver.keyspace.x_expireat__mutmut_4":
        "None and False are both false here",
    "services.sessionserver.keyspace.x_pexpire__mutmut_3":
        "None and False are both false here",
    "services.sessionserver.keyspace.x_pexpireat__mutmut_3":
        "None and False are both false here",
    "services.sessionserver.keyspace.x_pexpireat__mutmut_4":
        "None and False are both false here",
    "services.sessionserver.keyspace.x_pexpireat__mutmut_5":
        "the name is only in the errors of seconds or relative times, which PEXPIREAT never raises",
    "services.sessionserver.keyspace.x_pexpireat__mutmut_13":
        "the name is only in the errors of seconds or relative times, which PEXPIREAT never raises",
    "services.sessionserver.keyspace.x_pexpireat__mutmut_14":
        "the name is only in the errors of seconds or relative times, which PEXPIREAT never raises",
    "services.sessionserver.keyspace.x_unlink__mutmut_2":
        "DEL does not use the client",
    "services.sessionserver.keyspace.x_keys__mutmut_6":
        "the * short cut gives what the glob * gives",
    "services.sessionserver.keyspace.x_scan__mutmut_44":
        "the * short cut gives what the glob * gives",
    "services.sessionserver.keyspace.x_scan__mutmut_47":
        "the * short cut gives what the glob * gives",
    "services.sessionserver.keyspace.x_scan__mutmut_18":
        "the options' even length is checked just before; strict only guards it",
    "services.sessionserver.keyspace.x_scan__mutmut_21":
        "the options' even length is checked just before; strict only guards it",
    "services.sessionserver.keyspace.x_scan__mutmut_25":
        "the options' even length is checked just before; strict only guards it",
    "services.sessionserver.keyspace.x_ttl__mutmut_9":
        "milliseconds are whole: 0 rounds to 0 seconds either way",
    "services.sessionserver.keyspace.x_ttl__mutmut_10":
        "milliseconds are whole: 0 rounds to 0 seconds either way",
    "services.sessionserver.journal.x__openAppend__mutmut_1":
        "flags=1 is O_WRONLY, which is given already",
    "services.sessionserver.journal.x__openAppend__mutmut_8":
        "fchmod sets FILE_MODE before anything is written, whatever mode open() gave",
    "services.sessionserver.journal.xǁJournalWriteErrorǁ__init____mutmut_3":
        "BaseException.__new__ keeps the constructor's arguments as args already",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_12":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_20":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_21":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_23":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_24":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_25":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_26":
        "load() sets it before it is read",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_15":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_17":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁ_compacted__mutmut_17":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁsync__mutmut_3":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁ_failed__mutmut_20":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁ_writeRecords__mutmut_5":
        "None and False are both false here",
    "services.sessionserver.journal.xǁJournalǁ__init____mutmut_18":
        "the next write first cuts the file to the size it already has: nothing changes",
    "services.sessionserver.journal.xǁJournalǁ_failed__mutmut_21":
        "the next write first cuts the file to the size it already has: nothing changes",
    "services.sessionserver.journal.xǁJournalǁ_writeRecords__mutmut_6":
        "the next write first cuts the file to the size it already has: nothing changes",
    "services.sessionserver.journal.xǁJournalǁbeforeChange__mutmut_4":
        "undo runs latest first, so every change after a whole-store snapshot is undone before it"
        " and the store is as the flush left it: flushing again removes nothing",
    "services.sessionserver.journal.xǁ_Compactionǁ__init____mutmut_18":
        "schedule() replaces _call at once",
    "services.sessionserver.journalfile.xǁJournalReaderǁ_checksum__mutmut_11":
        "a line that could begin a checksum is at most 10 bytes, so one of 11 never is",
    "appserver.config.x_byteSize__mutmut_7":
        "the text is lower-cased first, so it holds no X to strip",
}
"""
Mutants no test can kill because they behave as the original does, by
mutmut name, with why.
"""


def moduleResults(root):
    """
    Map each mutated module's name to its mutants' C{{name: exit code}}.
    """
    results = {}
    for meta in sorted(Path(root).rglob("*.py.meta")):
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        if codes:
            module = ".".join(meta.relative_to(root).with_suffix("").with_suffix("").parts)
            results[module] = codes
    return results


def score(codes, equivalent=EQUIVALENT):
    """
    C{(mutants, killed, equivalent, not run, score)} for one module's exit
    codes; the score is killed / (mutants - equivalent - not run), in per
    cent.
    """
    killed = sum(1 for code in codes.values() if code in KILLED or code in TIMEOUT)
    same = sum(1 for name in codes if name in equivalent)
    notRun = sum(1 for code in codes.values() if code is None)
    counted = len(codes) - same - notRun
    return len(codes), killed, same, notRun, 100.0 * killed / counted if counted else 100.0


def staleEquivalents(results, equivalent=EQUIVALENT):
    """
    The mutants listed as equivalent that were killed or no longer exist.
    """
    codes = {name: code for module in results.values() for name, code in module.items()}
    return sorted(name for name in equivalent
                  if name not in codes or codes[name] in KILLED)


def survivors(codes, equivalent=EQUIVALENT):
    """
    The mutants of one module that survived and are not listed as equivalent.
    """
    return sorted(name for name, code in codes.items()
                  if code not in KILLED and code not in TIMEOUT and code is not None
                  and name not in equivalent)


def main(root="mutants"):
    """
    Print the report; return the exit status.
    """
    results = moduleResults(root)
    status = 0
    print(f"{'module':45} {'mutants':>7} {'killed':>6} {'equiv':>5} {'not run':>7} {'score':>6}")
    for module, codes in results.items():
        total, killed, same, notRun, percent = score(codes)
        print(f"{module:45} {total:7} {killed:6} {same:5} {notRun:7} {percent:5.1f}%")
        for name in survivors(codes):
            print(f"    survived: {name}")
        if notRun < total and percent < TARGET:
            status = 1
    for name in staleEquivalents(results):
        print(f"listed as equivalent but killed or gone: {name}")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
