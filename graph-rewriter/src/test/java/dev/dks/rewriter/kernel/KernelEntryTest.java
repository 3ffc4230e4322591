package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;

/**
 * A uint8 image input read by a Cast to float32 is checked from the Cast's output: the kernel
 * check of that model equals, number for number, the check of the same network with a float32
 * input in the Cast's place (a second model, fed directly). Controls: a float input is its own
 * entry (no note); a uint8 input with a second reader is refused, naming the input.
 */
class KernelEntryTest {
  private static final long[] SHAPE = {-1, 6, 5, 3};

  private static Model floatNet() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model();
  }

  /** floatNet with its input placeholder "input" replaced by Cast(uint8 "image"). */
  private static Model uint8Net(Model f, boolean secondReader) {
    GraphView g = GraphView.of(f.graph());
    g.remove("input");
    g.add(Nodes.op("Placeholder", "image").type("dtype", DataType.DT_UINT8).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(SHAPE)).build()).build());
    g.add(Nodes.op("Cast", "input").input("image").type("SrcT", DataType.DT_UINT8)
        .type("DstT", DataType.DT_FLOAT).build());
    if (secondReader) {
      g.add(Nodes.op("Identity", "image_copy").input("image").type("T", DataType.DT_UINT8)
          .build());
    }
    Signature s = f.signatures().get(0);
    Signature u = new Signature(s.key(), s.methodName(), Map.of("image",
        new TensorSpec(TensorName.of("image"), DataType.DT_UINT8, SHAPE)), s.outputs());
    return new Model(g.toGraphDef(), f.variables(), List.of(u));
  }

  @Test
  void aUint8InputIsCheckedFromItsCastAsTheFloatNetwork() {
    Model f = floatNet();
    Model u = uint8Net(f, false);
    KernelEntry e = KernelEntry.of(u);
    assertEquals("input", e.node());
    assertTrue(e.note().contains("'image' is DT_UINT8") && e.note().contains("'input'"),
        e.note());
    KernelEntry fe = KernelEntry.of(f);
    assertEquals("input", fe.node());
    assertNull(fe.note());
    KernelCheck.Options o = new KernelCheck.Options(new double[] {0.0, 0.6}, 6, 3, 0.03, 0.5, 1);
    KernelReport want = KernelCheck.run(f, null, o);
    KernelReport got = KernelCheck.run(u, null, o);
    assertEquals(want.rows().size(), got.rows().size());
    assertTrue(want.rows().size() >= 6, want.rows().toString());
    for (int i = 0; i < want.rows().size(); i++) {
      KernelMeasurement a = want.rows().get(i);
      KernelMeasurement b = got.rows().get(i);
      assertEquals(a.tensor(), b.tensor());
      assertEquals(a.measuredQ(), b.measuredQ(), 0.0, a.tensor());
      assertEquals(a.measuredC(), b.measuredC(), 0.0, a.tensor());
      assertEquals(a.predictedC(), b.predictedC(), 0.0, a.tensor());
    }
  }

  /**
   * An input of unknown spatial size is fed at 64x64: the check equals, number for number, the
   * check of the same model whose input is declared 64x64.
   */
  @Test
  void anUnknownSpatialSizeIsFedAt64() {
    Model fixed = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("64x64x3").build()).model();
    long[] open = {-1, -1, -1, 3};
    GraphView g = GraphView.of(fixed.graph());
    g.put(g.get("input").toBuilder().putAttr("shape", AttrValue.newBuilder()
        .setShape(TensorProtos.shapeProto(open)).build()).build());
    Signature s = fixed.signatures().get(0);
    String key = s.inputs().keySet().iterator().next();
    Model free = new Model(g.toGraphDef(), fixed.variables(), List.of(new Signature(s.key(),
        s.methodName(), Map.of(key, new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT,
        open)), s.outputs())));
    KernelEntry e = KernelEntry.of(free);
    assertEquals("[-1, 64, 64, 3]", java.util.Arrays.toString(e.shape()));
    assertTrue(e.note().contains("no fixed spatial size"), e.note());
    assertNull(KernelEntry.of(fixed).note());
    KernelCheck.Options o = new KernelCheck.Options(new double[] {0.0, 0.6}, 6, 3, 0.03, 0.5, 1);
    KernelReport want = KernelCheck.run(fixed, null, o);
    KernelReport got = KernelCheck.run(free, null, o);
    assertEquals(want.rows().size(), got.rows().size());
    for (int i = 0; i < want.rows().size(); i++) {
      assertEquals(want.rows().get(i).measuredQ(), got.rows().get(i).measuredQ(), 0.0);
      assertEquals(want.rows().get(i).measuredC(), got.rows().get(i).measuredC(), 0.0);
    }
  }

  @Test
  void aUint8InputWithAnotherReaderIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KernelEntry.of(uint8Net(floatNet(), true)));
    assertTrue(e.getMessage().contains("'image' is DT_UINT8")
        && e.getMessage().contains("image_copy"), e.getMessage());
  }
}
