"""Near copies planted with noise in a table of float features: recall, flags on clean data, and seconds of `inspect_data`.

Each generated table has `--d` standard-normal-like features (`gauss`: independent; `blobs`: sklearn's
`make_classification`, 15 informative and 7 redundant features). We plant `--n-dup` near duplicates inside the training
set and `--n-leak` near copies of training items in the validation set (10% of the items): a copy is its original plus
Gaussian noise of `noise` standard deviations of each feature. Recall counts the planted copies that `check_duplicates`
(`near_idx`) and `check_leakage` (`near_idx`) report; flags on clean data count every near copy reported on the same
table without plants, and on sklearn's digits and wine (standardised). Time is `inspect_data` on the whole table.

    python benchmarks/near_copies.py                          # recall at 50,000 items, time at 50,000 and 200,000
    python benchmarks/near_copies.py --sizes 20000 --quick    # a quick one
    python benchmarks/near_copies.py --cleanlab --sizes       # beside cleanlab's Datalab: pip install 'cleanlab[datalab]'

Writes `$OUT/near_copies.json` when the environment variable OUT is set (or `--json PATH`).
"""
import argparse, json, os, time
import numpy as np, torch

class Items:
    "Item i of an in-memory float tensor and its label"
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]

def make_table(kind, n, d, seed=0):
    "`n` rows of `d` float features and a class label"
    if kind == 'gauss':
        rng = np.random.default_rng(seed)
        return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, 2, n)
    from sklearn.datasets import make_classification
    x, y = make_classification(n, d, n_informative=15, n_redundant=7, random_state=seed)
    return x.astype(np.float32), y

def plant(x, y, noise, n_dup, n_leak, valid_pct=0.1, seed=1):
    "Copies with noise: train row b becomes train row a plus noise (a < b); valid row v becomes train row t plus noise"
    rng = np.random.default_rng(seed)
    x, y = x.copy(), y.copy()
    n_tr = len(x) - int(len(x) * valid_pct)
    perm = rng.permutation(n_tr)
    src, dst, tsrc = perm[:n_dup], perm[n_dup:2 * n_dup], perm[2 * n_dup:2 * n_dup + n_leak]
    dups = [(min(a, b), max(a, b)) for a, b in zip(src, dst)]
    sd = x[:n_tr].std(0)
    for a, b in dups: x[b], y[b] = x[a] + noise * sd * rng.standard_normal(x.shape[1]), y[a]
    vdst = rng.permutation(len(x) - n_tr)[:n_leak]
    leaks = list(zip(vdst.tolist(), tsrc.tolist()))
    for v, t in leaks: x[n_tr + v], y[n_tr + v] = x[t] + noise * sd * rng.standard_normal(x.shape[1]), y[t]
    return x, y, n_tr, dict(dups=dups, leaks=leaks)

def make_dls(x, y, n_tr, bs=1024):
    from fastai.data.core import DataLoaders
    x, y = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.asarray(y)).long()
    return DataLoaders.from_dsets(Items(x[:n_tr], y[:n_tr]), Items(x[n_tr:], y[n_tr:]), bs=bs, num_workers=0, device='cpu')

def inspect(x, y, n_tr):
    from recipe.data import inspect_data
    t0 = time.perf_counter()
    rep = inspect_data(make_dls(x, y, n_tr), verbose=False)
    return rep, time.perf_counter() - t0

def score(rep, planted):
    dup, leak = rep['duplicates'].details, rep['leakage'].details
    found_d = set(dup['near_idx'].tolist()) & {b for a, b in planted['dups']}
    found_l = set(leak['near_idx'].tolist()) & {v for v, t in planted['leaks']}
    n_p = len(planted['dups']) + len(planted['leaks'])
    return dict(recall=round((len(found_d) + len(found_l)) / max(n_p, 1), 4),
                recall_dup=round(len(found_d) / max(len(planted['dups']), 1), 4),
                recall_leak=round(len(found_l) / max(len(planted['leaks']), 1), 4),
                false_flags=int(dup['near'] + leak['near'] - len(found_d) - len(found_l)))

def cleanlab_near(x, y, n_tr, planted=None):
    """cleanlab's Datalab `near_duplicate` issue on all rows (training and validation together): recall of the planted
    copies (a copy counts when its row is flagged) and flags on rows that are neither a copy nor its original"""
    from cleanlab import Datalab
    t0 = time.perf_counter()
    lab = Datalab(data={'y': np.asarray(y)}, label_name='y', verbosity=0)
    lab.find_issues(features=np.ascontiguousarray(x), issue_types={'near_duplicate': {}})
    flagged = set(np.flatnonzero(lab.get_issues('near_duplicate')['is_near_duplicate_issue'].to_numpy()).tolist())
    t = round(time.perf_counter() - t0, 2)
    if planted is None: return dict(false_flags=len(flagged), seconds=t)
    copies_d, copies_l = {b for a, b in planted['dups']}, {n_tr + v for v, _ in planted['leaks']}
    involved = copies_d | copies_l | {a for a, _ in planted['dups']} | {t for _, t in planted['leaks']}
    return dict(recall=round(len(flagged & (copies_d | copies_l)) / max(1, len(copies_d | copies_l)), 4),
                recall_dup=round(len(flagged & copies_d) / max(1, len(copies_d)), 4),
                recall_leak=round(len(flagged & copies_l) / max(1, len(copies_l)), 4),
                false_flags=len(flagged - involved), seconds=t)

def flags(rep): return int(rep['duplicates'].details['near'] + rep['leakage'].details['near'])

def sk_table(name):
    from sklearn import datasets
    x, y = getattr(datasets, f'load_{name}')(return_X_y=True)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)
    perm = np.random.default_rng(0).permutation(len(x))
    return x[perm].astype(np.float32), y[perm], len(x) - len(x) // 5

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=50_000, help='items of the recall tables')
    p.add_argument('--d', type=int, default=30, help='features')
    p.add_argument('--n-dup', type=int, default=500); p.add_argument('--n-leak', type=int, default=500)
    p.add_argument('--sizes', type=int, nargs='*', default=[50_000, 200_000], help='items of the timed tables')
    p.add_argument('--noise', type=float, nargs='*', default=[0.01, 0.05, 0.2])
    p.add_argument('--kinds', nargs='*', default=['gauss', 'blobs'])
    p.add_argument('--quick', action='store_true', help='recall only at the last noise level')
    p.add_argument('--cleanlab', action='store_true', help="also cleanlab's Datalab near_duplicate on the recall tables")
    p.add_argument('--json', default=None)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    res = dict(card='2-core CPU', torch_threads=1, date=time.strftime('%Y-%m-%d'), load_avg=round(os.getloadavg()[0], 1), d=a.d, n=a.n, n_dup=a.n_dup, n_leak=a.n_leak, recall={}, clean={}, time={})
    for kind in a.kinds:
        x, y = make_table(kind, a.n, a.d)
        rep, t = inspect(x, y, len(x) - len(x) // 10)
        res['clean'][kind] = flags(rep); print(f"{kind} clean: {flags(rep)} near copies flagged ({t:.1f} s)", flush=True)
        if a.cleanlab:
            res.setdefault('cleanlab_clean', {})[kind] = c = cleanlab_near(x, y, len(x) - len(x) // 10)
            print(f"{kind} clean, cleanlab: {c}", flush=True)
        for noise in (a.noise[-1:] if a.quick else a.noise):
            xp, yp, n_tr, planted = plant(x, y, noise, a.n_dup, a.n_leak)
            rep, t = inspect(xp, yp, n_tr)
            res['recall'][f'{kind} {noise}'] = sc = dict(score(rep, planted), seconds=round(t, 2))
            print(f"{kind} noise {noise}: {sc}", flush=True)
            if a.cleanlab:
                res.setdefault('cleanlab_recall', {})[f'{kind} {noise}'] = c = cleanlab_near(xp, yp, n_tr, planted)
                print(f"{kind} noise {noise}, cleanlab: {c}", flush=True)
    for name in ('digits', 'wine'):
        rep, t = inspect(*sk_table(name))
        res['clean'][name] = flags(rep); print(f"{name} clean: {flags(rep)} near copies flagged")
    for n in a.sizes:
        x, y = make_table('gauss', n, a.d)
        xp, yp, n_tr, planted = plant(x, y, a.noise[-1], n // 200, n // 200)
        inspect(xp[:5000], yp[:5000], 4500)   # warm up
        rep, t = inspect(xp, yp, n_tr)
        res['time'][n] = dict(seconds=round(t, 2), **score(rep, planted))
        print(f"gauss {n} items, noise {a.noise[-1]}: {res['time'][n]}")
    path = a.json or (os.path.join(os.environ['OUT'], 'near_copies.json') if os.environ.get('OUT') else None)
    if path:
        with open(path, 'w') as f: json.dump(res, f, indent=2)
    return res

if __name__ == '__main__': main()
