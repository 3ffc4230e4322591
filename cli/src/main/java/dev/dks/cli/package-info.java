/**
 * The {@code dks} command line: a thin picocli layer over the modules' APIs. {@link
 * dev.dks.cli.DksCommand} is the entry point; {@link dev.dks.cli.SolveCommand} runs a DKS or TAT
 * solve and prints its parameters as a table or as JSON.
 */
package dev.dks.cli;
