"""`recipe audit` on every member of the zoo (`recipe.zoo.ZOO`): findings per status and seconds, per member and suite.

Each member is built once (its build time is reported apart), then audited `--repeats` times; the table shows the
status counts of the last audit and the median seconds of each suite. A healthy member should show 0 warn and 0 fail;
a warn or fail row is listed under the table with its advice.

    python benchmarks/zoo_audit.py                          # every member, once
    python benchmarks/zoo_audit.py --members vision collab  # some members
    python benchmarks/zoo_audit.py --repeats 3 --threads 2  # median of three audits, two torch threads

Target: every member's audit within 20 s on a 2-core CPU. Writes `$OUT/zoo_audit.json` when the environment
variable OUT is set (or `--json PATH`).
"""
import argparse, json, os, platform, statistics, sys, time, warnings
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
warnings.filterwarnings('ignore')
import torch

def audit_member(name, repeats):
    "Build the member once and audit it `repeats` times: build seconds, seconds per suite (medians), the last report"
    from recipe.zoo import ZOO
    from recipe.cli import audit, AUDIT_SUITES
    t0 = time.perf_counter(); learn = ZOO[name](); build = time.perf_counter() - t0
    secs, rep = {s: [] for s in AUDIT_SUITES}, None
    for _ in range(repeats):
        reps = {}
        for s in AUDIT_SUITES:
            t0 = time.perf_counter(); reps[s] = audit(learn, suites=[s], verbose=False); secs[s].append(time.perf_counter() - t0)
        rep = reps
    return build, {s: statistics.median(v) for s, v in secs.items()}, rep

def main():
    from recipe.zoo import ZOO
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--members', nargs='+', default=list(ZOO), help='zoo members to audit (default: all)')
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch\'s own choice)')
    p.add_argument('--json', default=None)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from recipe.cli import AUDIT_SUITES
    rows, notes = [], []
    w = {s: max(len(s), 9) for s in AUDIT_SUITES}   # each suite: p/w/f/s counts, then its seconds
    print(f"{'member':20s} {'build s':>7s}  " + '  '.join(f"{s + ' p/w/f/s':>{w[s] + 8}s} {'s':>5s}" for s in AUDIT_SUITES) + f"  {'total s':>7s}", flush=True)
    for name in a.members:
        build, secs, reps = audit_member(name, a.repeats)
        row = dict(member=name, build_s=round(build, 2), total_s=round(sum(secs.values()), 2))
        cells = []
        for s, rep in reps.items():
            c = rep.counts(); c['pass'] -= 1   # the 'learner' description row
            row[s] = dict(counts=c, seconds=round(secs[s], 2), per_check={f.name: f.details.get('seconds') for f in rep if f.name != 'learner'})
            cells.append(f"{c['pass']:>3d}/{c['warn']}/{c['fail']}/{c['skip']}".rjust(w[s] + 8) + f" {secs[s]:5.1f}")
            notes += [f"  {name}: {f.status} {f.name}: {f.advice}" for f in rep if f.status in ('warn', 'fail')]
        rows.append(row)
        print(f"{name:20s} {build:7.1f}  " + '  '.join(cells) + f"  {row['total_s']:7.1f}", flush=True)
    if notes: print('\nwarnings and failures:\n' + '\n'.join(notes))
    out = a.json or (os.path.join(os.environ['OUT'], 'zoo_audit.json') if os.environ.get('OUT') else None)
    if out:
        meta = dict(date=time.strftime('%Y-%m-%d'), cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                    torch=torch.__version__, threads=torch.get_num_threads(), repeats=a.repeats)
        with open(out, 'w') as f: json.dump(dict(meta=meta, rows=rows), f, indent=1)

if __name__ == '__main__': main()
