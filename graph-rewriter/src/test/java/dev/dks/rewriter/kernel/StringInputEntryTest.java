package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A DT_STRING input whose float features the graph computes (WAV bytes -> DecodeWav -> Reshape
 * to a 6x5x3 image -> convolutions, as ARM's keyword-spotting DS-CNN computes MFCCs from WAV
 * bytes) is checked from the tensor the first convolution reads, fed directly: its check equals,
 * number for number, the check of the same network with a float32 input placeholder in that
 * tensor's place (the second method). Control: a string input that no layer reads (through any
 * op) is still refused with the reason, naming the input.
 */
class StringInputEntryTest {
  private static final long[] IMAGE = {-1, 6, 5, 3};

  private static Model floatNet() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model();
  }

  private static AttrValue i(long v) {
    return AttrValue.newBuilder().setI(v).build();
  }

  /**
   * {@code f} with its float input placeholder "input" replaced by Reshape(DecodeWav(string
   * "wav")) to [-1, 6, 5, 3] (90 samples, one channel), or, with {@code layersReadIt} false, the
   * float input kept as the second input and the decoded wav read by no layer.
   */
  private static Model stringNet(Model f, boolean layersReadIt) {
    GraphView g = GraphView.of(f.graph());
    g.add(Nodes.op("Placeholder", "wav").type("dtype", DataType.DT_STRING).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[0])).build()).build());
    g.add(Nodes.op("DecodeWav", "decode").input("wav").attr("desired_channels", i(1))
        .attr("desired_samples", i(90)).build());
    TensorProto shape = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {4}))
        .addAllIntVal(List.of(-1, 6, 5, 3)).build();
    g.add(Nodes.constant("features/shape", shape));
    String features = layersReadIt ? "input" : "features";
    if (layersReadIt) {
      g.remove("input");
    }
    g.add(Nodes.op("Reshape", features).input("decode").input("features/shape")
        .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
    Signature s = f.signatures().get(0);
    Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    inputs.put("wav", new TensorSpec(TensorName.of("wav"), DataType.DT_STRING, new long[0]));
    if (!layersReadIt) {
      inputs.putAll(s.inputs());
    }
    return new Model(g.toGraphDef(), f.variables(), List.of(new Signature(s.key(),
        s.methodName(), inputs, s.outputs())));
  }

  @Test
  void aStringInputIsCheckedFromTheFeaturesItsFirstLayerReadsAsTheFloatNetwork() {
    Model f = floatNet();
    Model w = stringNet(f, true);
    KernelEntry e = KernelEntry.of(w);
    assertEquals("input", e.node());
    assertTrue(e.computedFeature());
    assertFalse(KernelEntry.of(f).computedFeature());
    // TensorFlow infers [1, 6, 5, 3] from the 90 decoded samples; the entry takes a batch
    assertEquals(Arrays.toString(IMAGE), Arrays.toString(e.shape()));
    assertTrue(e.note().contains("'wav' is DT_STRING") && e.note().contains("DecodeWav")
        && e.note().contains("fed directly at 'input'"), e.note());
    KernelCheck.Options o = new KernelCheck.Options(new double[] {0.0, 0.6}, 6, 3, 0.03, 0.5, 1);
    KernelReport want = KernelCheck.run(f, null, o);
    KernelReport got = KernelCheck.run(w, null, o);
    assertFalse(got.fedOneAtATime(), got.oneAtATime());
    assertEquals(want.rows().size(), got.rows().size());
    assertTrue(want.rows().size() >= 6, want.rows().toString());
    for (int k = 0; k < want.rows().size(); k++) {
      KernelMeasurement a = want.rows().get(k);
      KernelMeasurement b = got.rows().get(k);
      assertEquals(a.tensor(), b.tensor());
      assertEquals(a.measuredQ(), b.measuredQ(), 0.0, a.tensor());
      assertEquals(a.measuredC(), b.measuredC(), 0.0, a.tensor());
      assertEquals(a.predictedC(), b.predictedC(), 0.0, a.tensor());
    }
    // the fed pairs: the first layer's input carries exactly the chosen c, and the verdict is
    // the judged rows' errors against their allowances
    boolean pass = true;
    for (KernelMeasurement m : got.rows()) {
      if (m.depth() == 0) {
        assertEquals(m.inputC(), m.measuredC(), 1e-5, m.tensor());
      }
      if (m.tensor().equals(got.judgedTensor())) {
        assertTrue(Double.isFinite(m.predictedC()) && Double.isFinite(m.measuredC()),
            m.toString());
        pass &= Math.abs(m.measuredC() - m.predictedC()) <= m.cAllowed();
      }
    }
    assertEquals(pass, got.passed());
  }

  @Test
  void aStringInputNoLayerReadsIsRefusedNamingIt() {
    Model w = stringNet(floatNet(), false);
    assertEquals("wav", w.signatures().get(0).inputs().keySet().iterator().next());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KernelEntry.of(w));
    assertTrue(e.getMessage().contains("'wav' is DT_STRING")
        && e.getMessage().contains("not read by a single Cast")
        && e.getMessage().contains("no Conv2D, DepthwiseConv2dNative or MatMul layer"),
        e.getMessage());
  }
}
