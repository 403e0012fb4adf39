"""Progress bars from tasks and actors, drawn by the driver: `ray.experimental.tqdm_ray`.

Three tasks and an actor each update a `tqdm` bar while they work and print a few log
lines. The driver draws one bar per task (on a terminal, live bars that are cleared while
the forwarded log lines are printed; otherwise each bar's final state as one line), and
everything the workers printed is on the driver's terminal before `ray.shutdown()` returns.
Run: `python examples/progress_bars.py`.
"""

import time

import ray
from ray.experimental.tqdm_ray import safe_print, tqdm

ray.init(num_cpus=2)


@ray.remote
def download(k: int, files: int) -> int:
    bar = tqdm(total=files, desc=f"download {k}", unit="file", flush_interval_s=0.1)
    for i in range(files):
        time.sleep(0.02)
        bar.update(1)
        if i == files // 2:
            print(f"download {k}: halfway")
    bar.close()
    return files


@ray.remote
class Trainer:
    def train(self, epochs: int) -> str:
        for _ in tqdm(range(epochs), desc="training", unit="epoch"):
            time.sleep(0.02)
        print("training done")
        return "model"


trainer = Trainer.remote()
counts = ray.get([download.remote(k, 10 + 5 * k) for k in range(3)])
model = ray.get(trainer.train.remote(20))
assert counts == [10, 15, 20] and model == "model"
safe_print(f"downloaded {sum(counts)} files, trained a {model}")
ray.shutdown()
