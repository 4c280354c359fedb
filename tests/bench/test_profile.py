"""Reading `perf report` for `bench.profile`: the functions by share, without the frames that
wrap everything a backend does, and without addresses perf could not name."""

from __future__ import annotations

from bench.profile import parts, top

# Lines of `perf report --children --sort symbol --stdio -g none` of a bulk ingestion profile.
CHILDREN = """\
# Children      Self  Symbol
# ........  ........  ....................................
#
    98.46%     0.00%  [.] PostgresMain                               -      -
    92.49%     0.04%  [.] ProcessQuery                               -      -
    64.38%     0.13%  [.] ExecScan                                   -      -
    54.41%     0.00%  [.] pgss_ExecutorFinish                        -      -
    21.33%     0.02%  [.] ExecLockRows                               -      -
    14.84%     0.11%  [k] do_syscall_64                              -      -
    11.45%     0.00%  [k] ext4_buffered_write_iter                   -      -
     7.83%     0.00%  [.] 0x00000001ffffffff                         -      -
     7.58%     0.00%  [.] RI_FKey_check_ins                          -      -
"""

OWN = """\
    10.50%  [k] copy_folio_from_iter_atomic                -      -
     9.46%  [.] hash_search_with_hash_value                -      -
            |--2.57%--ExecMergeJoin
     5.66%  [.] _bt_compare                                -      -
"""


def test_the_functions_come_by_share_without_wrapping_frames_or_addresses() -> None:
    assert top(CHILDREN, 10) == [
        "   64.38%  postgres ExecScan",
        "   21.33%  postgres ExecLockRows",
        "   11.45%  kernel   ext4_buffered_write_iter",
        "    7.58%  postgres RI_FKey_check_ins",
    ]


def test_own_samples_are_read_and_cut_at_the_limit() -> None:
    assert top(OWN, 2) == [
        "   10.50%  kernel   copy_folio_from_iter_atomic",
        "    9.46%  postgres hash_search_with_hash_value",
    ]


def test_the_parts_are_read_from_the_report_and_a_missing_one_is_zero() -> None:
    lines = parts(CHILDREN)

    locking = "   21.33%  locking rows (FOR UPDATE; foreign-key checks lock too) (ExecLockRows)"
    assert locking in lines
    assert "    7.58%  of which foreign-key checks (RI_FKey_check_ins)" in lines
    assert "    0.00%  updating rows (ExecUpdate)" in lines
