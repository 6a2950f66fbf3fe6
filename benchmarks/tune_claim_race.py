"""How often do two worker processes claim the same queued Optuna trial on one SQLite file?

Optuna hands a queued (WAITING) trial to a worker by switching it to RUNNING with a `SELECT ... FOR UPDATE`;
SQLite ignores `FOR UPDATE`, so two processes can both read a trial as waiting and both take it.
`recipe.tune` claims under a file lock next to the database. This script queues N trials, lets W processes
pop them as fast as they can, with plain `study.ask()` and with recipe's lock, and counts the trials handed
to more than one worker. Several repeats; prints a table, writes JSON to $OUT/tune_claim_race.json if OUT is set.

    python benchmarks/tune_claim_race.py --trials 300 --workers 2 --repeats 3
"""
import argparse, json, os, sys, tempfile, time, multiprocessing as mp
from collections import Counter
from statistics import median

def _pop_all(url, name, locked, q):
    try: q.put(_pop(url, name, locked))
    except Exception as e: q.put(f'{type(e).__name__}: {e}'.splitlines()[0])  # e.g. SQLite's "database is locked"

def _pop(url, name, locked):
    import optuna
    from optuna.trial import TrialState
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from recipe.tune import tune_storage, _ClaimLock
    storage = tune_storage(url)
    study = optuna.load_study(study_name=name, storage=storage)
    got = []
    while True:
        if locked:
            with _ClaimLock(storage):
                if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)): break
                t = study.ask()
        else:
            if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)): break
            t = study.ask()
        got.append(t.number)
        try: study.tell(t, 0.0)
        except Exception: pass  # the other worker told it first: it was handed out twice
    return got

def run(n_trials, n_workers, locked):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from recipe.tune import tune_storage
    d = tempfile.mkdtemp()
    url = f'sqlite:///{d}/race.db'
    study = optuna.create_study(study_name='race', storage=tune_storage(url))
    for i in range(n_trials): study.enqueue_trial({}, user_attrs={'i': i})
    ctx = mp.get_context('spawn')
    q = ctx.Queue()
    ps = [ctx.Process(target=_pop_all, args=(url, 'race', locked, q)) for _ in range(n_workers)]
    t0 = time.perf_counter()
    for p in ps: p.start()
    got = [q.get(timeout=600) for _ in ps]
    for p in ps: p.join()
    wall = time.perf_counter() - t0
    errors = [g for g in got if isinstance(g, str)]
    if errors: return dict(doubly_claimed=None, claims=None, seconds=wall, errors=errors)
    c = Counter(n for g in got for n in g)
    return dict(doubly_claimed=sum(v > 1 for v in c.values()), claims=sum(c.values()), seconds=wall)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--trials', type=int, default=200)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    res = {}
    for locked in (False, True):
        rs = [run(a.trials, a.workers, locked) for _ in range(a.repeats)]
        ok = [r['doubly_claimed'] for r in rs if r['doubly_claimed'] is not None]
        res['recipe lock' if locked else 'plain ask'] = dict(doubly_claimed=ok, median_doubly_claimed=median(ok) if ok else None,
                                                             median_seconds=median(r['seconds'] for r in rs),
                                                             crashed_repeats=[r['errors'] for r in rs if r.get('errors')])
    print(f"{a.trials} queued trials, {a.workers} workers, {a.repeats} repeats")
    print(f"{'claim':<12} {'doubly claimed (each repeat)':<30} {'median s':>8}")
    for k, r in res.items():
        print(f"{k:<12} {str(r['doubly_claimed']):<30} {r['median_seconds']:>8.2f}" + (f"  crashed: {r['crashed_repeats']}" if r['crashed_repeats'] else ''))
    if os.environ.get('OUT'):
        json.dump(dict(args=vars(a), results=res), open(os.path.join(os.environ['OUT'], 'tune_claim_race.json'), 'w'), indent=2)
