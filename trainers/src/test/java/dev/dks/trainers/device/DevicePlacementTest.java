package dev.dks.trainers.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.trainers.device.DevicePlacement.Device;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;

/** Placement strings, the GPU fallback and the traced device summary, on the CPU. */
class DevicePlacementTest {

  private static Model mlp() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(8)
        .input("1x1x4").classes(3).activation("tanh").seed(1).build()).model();
  }

  @Test
  void everyNodeGetsTheDeviceOfItsMode() {
    Model m = mlp();
    for (Device d : Device.values()) {
      DevicePlacement p = DevicePlacement.resolve(d, List.of("/job:localhost/replica:0/task:0/"
          + "device:GPU:0"));
      Model placed = p.place(m);
      String want = d == Device.CPU ? "/device:CPU:0" : "/device:GPU:0"; // auto: the GPU is there
      assertEquals(want, p.deviceString());
      assertEquals(m.graph().getNodeCount(), placed.graph().getNodeCount());
      for (NodeDef n : placed.graph().getNodeList()) {
        assertEquals(want, n.getDevice(), d + ": " + n.getName());
      }
      assertEquals(m.variables(), placed.variables());
    }
  }

  @Test
  void gpuWithoutAGpuFallsBackToTheCpuWithOneNotice() {
    DevicePlacement p = DevicePlacement.resolve(Device.GPU, List.of());
    assertEquals(Device.CPU, p.effective());
    assertEquals("/device:CPU:0", p.deviceString());
    String notice = p.notice().orElseThrow();
    assertEquals(1, notice.lines().count());
    assertTrue(notice.contains("no GPU") && notice.contains("CPU"), notice);
    assertFalse(DevicePlacement.resolve(Device.CPU, List.of()).notice().isPresent());
    assertFalse(DevicePlacement.resolve(Device.AUTO, List.of()).notice().isPresent());
  }

  @Test
  void theRuntimeProbeIsHonestAndNeverThrows() {
    List<String> gpus = DevicePlacement.availableGpus(DevicePlacement.config(false, 0, 0));
    System.out.println("GPUs reported by the runtime: " + gpus);
    gpus.forEach(g -> assertTrue(g.contains("GPU"), g));
    DevicePlacement p = DevicePlacement.resolve(Device.GPU, gpus);
    if (gpus.isEmpty()) {
      assertEquals(Device.CPU, p.effective());
      System.out.println(p.notice().orElseThrow());
    } else {
      assertEquals(Device.GPU, p.effective());
    }
  }

  @Test
  void configHasSoftPlacementAndThreads() {
    ConfigProto c = DevicePlacement.config(true, 2, 1);
    assertTrue(c.getAllowSoftPlacement());
    assertTrue(c.getLogDevicePlacement());
    assertEquals(2, c.getIntraOpParallelismThreads());
    assertEquals(1, c.getInterOpParallelismThreads());
    ConfigProto d = DevicePlacement.config(false, 0, 0);
    assertTrue(d.getAllowSoftPlacement());
    assertEquals(0, d.getIntraOpParallelismThreads());
    assertThrows(IllegalArgumentException.class, () -> DevicePlacement.config(false, -1, 0));
    assertEquals(Device.AUTO, Device.parse("Auto"));
    assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu"));
  }

  @Test
  void summaryOfATracedCpuStepCountsOpsOnTheCpuOnly() {
    DevicePlacement p = DevicePlacement.resolve(Device.CPU, List.of());
    Model placed = p.place(mlp());
    try (TrainingGraph tg = TrainingGraph.build(placed, TrainingSpec.defaults(),
        DevicePlacement.config(false, 0, 0))) {
      Signature sig = placed.signature(Signature.SERVING_DEFAULT);
      TensorSpec in = sig.inputs().values().iterator().next();
      TensorSpec out = sig.outputs().values().iterator().next();
      try (TFloat32 x = TFloat32.tensorOf(Shape.of(2, 1, 1, 4),
          DataBuffers.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, true, false))) {
        Map<String, Integer> summary = DevicePlacement.deviceSummary(tg.session().runner()
            .feed(in.tensor().node() + ":" + in.tensor().index(), x)
            .fetch(out.tensor().node() + ":" + out.tensor().index()));
        System.out.println("device summary: " + DevicePlacement.describe(summary));
        assertFalse(summary.isEmpty());
        summary.forEach((device, n) -> {
          assertTrue(device.toUpperCase().contains("CPU"), device);
          assertTrue(n > 0, device + ": " + n);
        });
      }
    }
  }
}
