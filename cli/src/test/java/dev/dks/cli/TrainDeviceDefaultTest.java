package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dks train} without {@code --device} is {@code --device auto}: on the CPU natives it runs
 * on the CPU and says it chose so (summary {@code on cpu (auto: no GPU)}, JSON requested auto,
 * effective cpu); {@code --device cpu} still works.
 */
class TrainDeviceDefaultTest {
  @TempDir Path tmp;

  @Test
  void theDefaultIsAutoAndResolvesToTheCpuHere() {
    Path model = tmp.resolve("mlp");
    assertEquals(0, Cli.run("build", "--arch", "mlp", "--depth", "2", "--width", "8", "--input",
        "4x4x1", "--classes", "3", "--out", model.toString()).code());
    JsonNode j = Cli.json("train", model.toString(), "--data", "synthetic:4x4x1:3:256",
        "--steps", "3", "--batch", "16", "--out", tmp.resolve("auto").toString());
    assertEquals("auto", j.get("device").get("requested").asText(), j.toString());
    assertEquals("cpu", j.get("device").get("effective").asText(), j.toString());
    assertTrue(j.get("device").get("notice") == null, j.toString());

    Cli text = Cli.run("train", model.toString(), "--data", "synthetic:4x4x1:3:256", "--steps",
        "3", "--batch", "16", "--out", tmp.resolve("auto-text").toString());
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("on cpu (auto: no GPU)"), text.out());

    JsonNode cpu = Cli.json("train", model.toString(), "--data", "synthetic:4x4x1:3:256",
        "--steps", "3", "--batch", "16", "--device", "cpu", "--out",
        tmp.resolve("cpu").toString());
    assertEquals("cpu", cpu.get("device").get("requested").asText());
    assertEquals("cpu", cpu.get("device").get("effective").asText());
  }
}
