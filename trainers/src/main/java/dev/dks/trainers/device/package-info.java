/**
 * Device placement of training graphs ({@code --device cpu|gpu|auto}): the session
 * configuration, the device of every node, GPU discovery through the runtime, and the per-device
 * op counts of a traced step.
 */
package dev.dks.trainers.device;
