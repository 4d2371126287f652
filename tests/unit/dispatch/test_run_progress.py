"""api.run / run_flow_locally call ``on_job(i, n, name)`` once per job, in order, with the flow's count."""

from jobflow import Flow, job

from contactflow.dispatch import run_flow_locally


@job
def add(a, b):
    return a + b


def test_on_job_counts_every_job(store):
    j1 = add(1, 2)
    j2 = add(j1.output, 3)
    j3 = add(j2.output, 4)
    seen = []
    out = run_flow_locally(Flow([j1, j2, j3]), store, on_job=lambda i, n, name: seen.append((i, n, name)))
    assert [s[:2] for s in seen] == [(1, 3), (2, 3), (3, 3)] and all(s[2] == "add" for s in seen)
    assert out[j3.uuid][1].output == 10


def test_a_failing_progress_callback_does_not_stop_the_run(store):
    def boom(i, n, name):
        raise RuntimeError("display broke")

    j = add(1, 1)
    assert run_flow_locally(j, store, on_job=boom)[j.uuid][1].output == 2
