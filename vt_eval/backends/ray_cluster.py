"""Connecting to a Ray cluster (`[ray] address`) and describing it for manifest.cluster."""

from __future__ import annotations

import os
from typing import Any

import ray

from vt_eval.config import RayConfig
from vt_eval.errors import BackendError, ConfigError


def local_cpus(config: RayConfig) -> int:
    if config.num_cpus:
        return config.num_cpus
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def connect(config: RayConfig) -> bool:
    """Start (`local`) or join (`auto`, host:port) a cluster; True when this run started it."""
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR",
                             "configure_logging": False}
    try:
        if config.address == "local":
            ray.init(num_cpus=local_cpus(config), include_dashboard=False,
                     object_store_memory=config.object_store_mib * 2**20, **quiet)
            return True
        ray.init(address=config.address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at [ray] address = '{config.address}': {exc}\n"
            "Is it running (`ray start --head`)? A cluster with token authentication (Ray's "
            "default) needs RAY_AUTH_MODE=token in this shell, and its token in "
            "~/.ray/auth_token or RAY_AUTH_TOKEN. Or use --ray local: a cluster inside this run."
        ) from exc
    return False


def disconnect() -> None:
    if ray.is_initialized():
        ray.shutdown()  # a joined cluster keeps running; a started ("local") one stops


def worker_count(config: RayConfig) -> int:
    """`[ray] workers`, or as many as the cluster's CPUs (GPUs when a worker takes GPUs) allow."""
    if config.workers:
        return config.workers
    resources = ray.cluster_resources()
    if config.gpus_per_worker:
        count = int(resources.get("GPU", 0) // config.gpus_per_worker)
    else:
        count = int(resources.get("CPU", 0) // config.cpus_per_worker)
    if count < 1:
        raise BackendError(f"the Ray cluster has {resources.get('CPU', 0):g} CPUs and "
                           f"{resources.get('GPU', 0):g} GPUs: not enough for one worker "
                           f"([ray] cpus_per_worker = {config.cpus_per_worker:g}, gpus_per_worker "
                           f"= {config.gpus_per_worker:g})")
    return count


def nodes() -> list[dict[str, Any]]:
    return [{"node_id": n["NodeID"], "address": n.get("NodeManagerAddress"),
             "host": n.get("NodeManagerHostname"),
             "cpus": n.get("Resources", {}).get("CPU", 0),
             "gpus": n.get("Resources", {}).get("GPU", 0)}
            for n in ray.nodes() if n.get("Alive")]
