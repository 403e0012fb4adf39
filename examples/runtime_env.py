"""Runtime environments: a job-wide env_vars, and a task whose working_dir ships local code.

The job's runtime_env sets an environment variable for every task; one task adds its own
variable (merged over the job's) and a working_dir holding a module it imports and a data
file it reads by a relative path (the worker's cwd is the unpacked working_dir).
"""

import os
import tempfile
from pathlib import Path

import ray


def main() -> None:
    with tempfile.TemporaryDirectory() as project:
        Path(project, "greetings.py").write_text("def greet(name):\n    return f'hello {name}'\n")
        Path(project, "names.txt").write_text("ada\ngrace\n")

        ray.init(num_cpus=2, runtime_env={"env_vars": {"STAGE": "demo"}})

        @ray.remote
        def stage() -> str:
            return os.environ["STAGE"]

        @ray.remote(runtime_env={"working_dir": project, "env_vars": {"PUNCT": "!"}})
        def greet_all() -> list:
            import greetings

            names = Path("names.txt").read_text().split()
            return [greetings.greet(n) + os.environ["PUNCT"] + os.environ["STAGE"] for n in names]

        assert ray.get(stage.remote(), timeout=30) == "demo"
        greeted = ray.get(greet_all.remote(), timeout=30)
        assert greeted == ["hello ada!demo", "hello grace!demo"], greeted
        print("\n".join(greeted))
        ray.shutdown()


if __name__ == "__main__":
    main()
