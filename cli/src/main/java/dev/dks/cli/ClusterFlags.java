package dev.dks.cli;

import dev.dks.trainers.distributed.ClusterSpec;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options of {@code dks train} that make a process one task of a distributed run (a picocli
 * mixin): {@code --cluster FILE --task TYPE:INDEX}, or else the {@code TF_CONFIG} environment
 * variable; with neither, training is single-process as before. See docs/distributed.md.
 */
final class ClusterFlags {
  @Option(names = "--cluster", paramLabel = "FILE",
      description = "Distributed training: a JSON cluster spec ({\"chief\": [...], \"worker\": "
          + "[\"host:port\", ...]} or a whole TF_CONFIG); default: the TF_CONFIG variable.")
  Path cluster;

  @Option(names = "--task", paramLabel = "TYPE:INDEX",
      description = "This process's task in --cluster, e.g. worker:0.")
  String task;

  @Option(names = "--collective-timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "Distributed training: how long a step waits for the other tasks before "
          + "failing (default 60: a task that died stops the others within about a minute; "
          + "raise it when one step, or the chief's checkpoint, takes longer).")
  float collectiveTimeout;

  @Option(names = "--startup-timeout", paramLabel = "SECONDS", defaultValue = "120",
      description = "Distributed training: how long to wait for every task to start "
          + "(default 120).")
  float startupTimeout;

  /** The cluster of this process, or empty; a bad spec is a one-line ClusterConfigException. */
  Optional<ClusterSpec> resolve() {
    if (!(collectiveTimeout > 0) || !(startupTimeout > 0)) {
      throw new IllegalArgumentException("--collective-timeout and --startup-timeout must be "
          + "positive");
    }
    return ClusterSpec.resolve(cluster, task, System.getenv());
  }
}
