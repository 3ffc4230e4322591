/**
 * The training loop: a {@link dev.dks.trainers.loop.Trainer} that runs optimizer steps of a
 * {@link dev.dks.trainers.graph.TrainingGraph} over batches that are a pure function of the step,
 * and {@link dev.dks.trainers.loop.TrainingListener}s for every side effect (progress bar, JSON
 * lines, evaluation, checkpoints, divergence guard), composed rather than switched on by flags
 * (the style of DJL's {@code TrainingListener}).
 *
 * <p>Steps are 0-based: step {@code s} trains on {@code batchAt(s)} with the learning rate
 * {@code schedule.at(s)}. A checkpoint taken after step {@code s} records {@code s + 1}, the
 * number of completed steps and the next step to run, so {@link
 * dev.dks.trainers.loop.Trainer#resume} continues with exactly the batches, learning rates and
 * optimizer state an uninterrupted run would have used.
 */
package dev.dks.trainers.loop;
