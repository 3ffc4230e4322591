/**
 * The model builder: TensorFlow graphs of MLPs, plain CNNs and ResNets (v1/v2, with or without
 * batch normalization), raw or DKS/TAT-shaped, emitted at {@code NodeDef} level as plain TF1
 * GraphDefs with {@code VariableV2} weights and their initial values.
 *
 * <p>Entry point: {@link dev.dks.rewriter.builder.ModelBuilder#build(ArchitectureSpec)}, which
 * returns a {@link dev.dks.rewriter.builder.BuiltModel}: the {@link dev.dks.rewriter.model.Model}
 * (graph + variable values + {@code serving_default} signature), the dks-solver {@link
 * dev.dks.solver.network.Structure} the builder declares for what it emitted, and one {@link
 * dev.dks.rewriter.builder.LayerInfo} per layer.
 *
 * <p>Conventions: tensors are float32 in NHWC layout ({@code [batch, height, width, channels]});
 * dense kernels are {@code [in, out]}, convolution kernels HWIO ({@code [kh, kw, in, out]}).
 */
package dev.dks.rewriter.builder;
