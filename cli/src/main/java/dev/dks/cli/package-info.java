/**
 * The {@code dks} command line: a thin picocli layer over the modules' APIs. {@link
 * dev.dks.cli.DksCommand} is the entry point; {@link dev.dks.cli.SolveCommand} runs a DKS or TAT
 * solve and prints its parameters as a table or as JSON; {@link dev.dks.cli.BuildCommand} builds
 * networks; {@link dev.dks.cli.InspectCommand}, {@link dev.dks.cli.RewriteCommand} and {@link
 * dev.dks.cli.VerifyCommand} read a model of any supported format (SavedModel folder, frozen
 * {@code .pb}, TensorFlow.js {@code model.json}, Keras {@code .h5}, through {@code
 * dev.dks.savedmodels.ModelReaders}) and describe, rewrite or kernel-check it; {@link
 * dev.dks.cli.ConvertCommand} converts such a model into a serving SavedModel, {@link
 * dev.dks.cli.ExportCommand} turns a (training) SavedModel into one, and {@link
 * dev.dks.cli.CheckServingCommand} checks a folder against TF Serving's contract. Every
 * SavedModel the commands write comes from {@code dev.dks.savedmodels.export.ServingExporter}.
 */
package dev.dks.cli;
