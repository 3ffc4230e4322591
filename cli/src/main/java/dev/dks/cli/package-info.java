/**
 * The {@code dks} command line: a thin picocli layer over the modules' APIs. {@link
 * dev.dks.cli.DksCommand} is the entry point; {@link dev.dks.cli.SolveCommand} runs a DKS or TAT
 * solve and prints its parameters as a table or as JSON; {@link dev.dks.cli.BuildCommand} builds
 * networks; {@link dev.dks.cli.InspectCommand}, {@link dev.dks.cli.RewriteCommand} and {@link
 * dev.dks.cli.VerifyCommand} read a SavedModel folder or frozen {@code .pb} (through {@code
 * dev.dks.savedmodels.ModelReaders}) and describe, rewrite or kernel-check it.
 */
package dev.dks.cli;
