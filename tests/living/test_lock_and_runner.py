import subprocess
import sys
import textwrap

from livingmeta.living.lock import AlreadyLocked, UpdateLock
from livingmeta.living.runner import nothing_to_do, problems_in
from livingmeta.living.update import update


def test_lock_is_exclusive_across_processes_and_released_on_exit(tmp_path):
    path = tmp_path / "state" / "update.lock"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from livingmeta.living.lock import UpdateLock
        lock = UpdateLock({str(path)!r}).acquire()
        print("held", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    lock = UpdateLock(path)
    assert lock.held_by_other()
    try:
        lock.acquire()
        raise AssertionError("acquired a held lock")
    except AlreadyLocked as held:
        assert held.holder.startswith("pid ")
    holder.kill()  # dies without releasing: the OS releases the lock
    holder.wait()
    assert not lock.held_by_other()
    with lock:
        assert path.read_text().startswith("pid ")


def test_a_second_update_exits_at_once_with_status_0(tmp_path):
    cfg = {"review_dir": str(tmp_path / "review"), "results_dir": str(tmp_path / "results"),
           "reports_dir": str(tmp_path / "reports"), "fetch": {}}
    with UpdateLock(tmp_path / "results" / ".livingmeta" / "update.lock"):
        outcome = update(cfg, configfile=None)
    assert outcome.status == 0
    assert "another update is running" in outcome.summary


def test_problems_are_collected_once_each():
    text = ("Error in rule study_effects:\n"
            "livingmeta: error: review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)\n"
            "[Sat Nov 21] livingmeta: error: review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)\n"
            "livingmeta: error: review/studies/b.yaml: study: duplicate id\n")
    assert problems_in(text) == ["review/studies/a.yaml: outcomes[0].control.sd: must be > 0 (got -1)",
                                 "review/studies/b.yaml: study: duplicate id"]
    assert nothing_to_do("Nothing to be done (all requested files are present and up to date).")
    assert not nothing_to_do("Finished job 3.")
