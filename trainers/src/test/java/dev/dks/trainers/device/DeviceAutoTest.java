package dev.dks.trainers.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.device.DevicePlacement.Device;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code --device auto}, the default: the GPU when the runtime has one, else the CPU, said in the
 * label; never a notice, never a failure. Runs on the CPU: the GPU case is resolved against a
 * given device list, the CPU case against the real runtime (the CPU natives on the class path).
 */
class DeviceAutoTest {
  private static final String GPU = "/job:localhost/replica:0/task:0/device:GPU:0";

  @Test
  void autoWithoutAGpuIsTheCpuAndSaysWhy() {
    DevicePlacement p = DevicePlacement.resolve(Device.AUTO, List.of());
    assertEquals(Device.AUTO, p.requested());
    assertEquals(Device.CPU, p.effective());
    assertEquals(DevicePlacement.CPU0, p.deviceString());
    assertEquals("cpu (auto: no GPU)", p.label());
    assertFalse(p.notice().isPresent());
  }

  @Test
  void autoWithAGpuIsTheGpu() {
    DevicePlacement p = DevicePlacement.resolve(Device.AUTO, List.of(GPU));
    assertEquals(Device.GPU, p.effective());
    assertEquals(DevicePlacement.GPU0, p.deviceString());
    assertEquals("gpu (auto)", p.label());
    assertFalse(p.notice().isPresent());
  }

  @Test
  void explicitDevicesKeepTheirMeaning() {
    assertEquals("cpu", DevicePlacement.resolve(Device.CPU, List.of(GPU)).label());
    assertEquals(Device.CPU, DevicePlacement.resolve(Device.CPU, List.of(GPU)).effective());
    assertEquals("gpu", DevicePlacement.resolve(Device.GPU, List.of(GPU)).label());
    DevicePlacement fallback = DevicePlacement.resolve(Device.GPU, List.of());
    assertEquals("cpu (no GPU)", fallback.label());
    assertTrue(fallback.notice().isPresent());
  }

  @Test
  void onTheCpuNativesTheRuntimeResolvesAutoToTheCpu() {
    boolean gpuNatives = DeviceAutoTest.class.getClassLoader()
        .getResource("org/tensorflow/internal/c_api/linux-x86_64-gpu/") != null;
    Assumptions.assumeFalse(gpuNatives, "GPU natives on the class path: not the CPU case");
    DevicePlacement p = DevicePlacement.resolve(Device.AUTO, DevicePlacement.config(false, 0, 0));
    assertEquals(List.of(), p.gpus());
    assertEquals(Device.CPU, p.effective());
    assertEquals("cpu (auto: no GPU)", p.label());
  }
}
