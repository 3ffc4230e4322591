package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TAT's eta is automatic by default in {@code build} as in {@code rewrite}: a network too shallow
 * (or with too strong a shortcut) for the default C(0) target 0.9 is shaped to the largest C(0)
 * it reaches (the TReLU at slope 0, i.e. ReLU), says so, and records that eta; an explicit {@code
 * --eta 0.9} stays exact and is refused with one line naming what to do.
 *
 * <p>The independent number: a plain chain of L ReLU layers (scaled by sqrt 2, so q stays 1) maps
 * c by the arc-cosine kernel {@code f(c) = (sqrt(1-c^2) + (pi - acos c) c) / pi} (Cho and Saul
 * 2009) per layer, so its largest C(0) is f applied L times to 0.
 */
class BuildEtaAutoTest {
  @TempDir Path tmp;

  /** f^depth(0) by the arc-cosine kernel's closed form. */
  private static double reluChainC0(int depth) {
    double c = 0;
    for (int i = 0; i < depth; i++) {
      c = (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c) / Math.PI;
    }
    return c;
  }

  private static ShapingMetadata record(Path model) {
    return ShapingMetadataFiles.read(model).orElseThrow(() -> new AssertionError("no record"));
  }

  @Test
  void shallowPlainCnnIsShapedToItsLargestEtaAndSaysSo() {
    Path out = tmp.resolve("cnn4");
    Cli r = Cli.run("build", "--arch", "plain-cnn", "--depth", "4", "--width", "4",
        "--shaped", "--method", "TAT", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    double expected = reluChainC0(4);
    // negative control: the closed form is below the default, so the default is unreachable, and
    // a chain one layer shorter or longer gives a clearly different value
    assertTrue(expected < 0.9 - 0.05, "control: " + expected);
    assertTrue(Math.abs(reluChainC0(3) - expected) > 0.05);
    assertTrue(Math.abs(reluChainC0(5) - expected) > 0.05);
    ShapingMetadata md = record(out);
    assertEquals(expected, md.tatTargets().orElseThrow().eta(), 1e-6, md.toString());
    assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "eta = %.6f", expected)),
        "the chosen eta is printed: " + r.out());
  }

  @Test
  void explicitDefaultEtaIsRefusedNamingTheWayOut() {
    Cli r = Cli.run("build", "--arch", "plain-cnn", "--depth", "4", "--width", "4",
        "--shaped", "--method", "TAT", "--eta", "0.9", "--out", tmp.resolve("never").toString());
    Cli.assertOneErrorLine(r, "eta = 0.9",
        String.format(java.util.Locale.ROOT, "%.6f", reluChainC0(4)), "--eta auto");
    assertFalse(Files.exists(tmp.resolve("never")));
  }

  @Test
  void etaAppliesToShapedTatBuildsOnly() {
    Cli.assertOneErrorLine(Cli.run("build", "--arch", "plain-cnn", "--depth", "4",
        "--shaped", "--method", "DKS", "--eta", "0.5", "--out", tmp.resolve("a").toString()),
        "--eta");
    Cli.assertOneErrorLine(Cli.run("build", "--arch", "plain-cnn", "--depth", "4",
        "--eta", "0.5", "--out", tmp.resolve("b").toString()), "--eta");
  }

  @Test
  void explicitReachableEtaIsExact() {
    JsonNode j = Cli.json("build", "--arch", "plain-cnn", "--depth", "4", "--width", "4",
        "--shaped", "--method", "TAT", "--eta", "0.5", "--out", tmp.resolve("e").toString());
    assertEquals(0.5, record(tmp.resolve("e")).tatTargets().orElseThrow().eta(), 1e-12);
    assertEquals(0, j.get("warnings").size(), j.toString());
  }

  /**
   * The command: ResNet-18 with shortcut weight 0.8 cannot reach 0.9. build and rewrite
   * (of the same raw ResNet) both shape it to the same lower eta by default and record it.
   */
  @Test
  void resnetWithStrongShortcutBuildAndRewriteAgree() {
    Path built = tmp.resolve("r18");
    Cli b = Cli.run("build", "--arch", "resnet", "--depth", "18", "--width", "4",
        "--input", "16x16x3", "--shaped", "--method", "TAT", "--shortcut-weight", "0.8",
        "--out", built.toString());
    assertEquals(0, b.code(), b.err());
    double etaBuilt = record(built).tatTargets().orElseThrow().eta();
    assertTrue(etaBuilt < 0.9 - 0.01 && etaBuilt > 0.5, "eta " + etaBuilt);

    Path raw = tmp.resolve("raw18");
    assertEquals(0, Cli.run("build", "--arch", "resnet", "--depth", "18", "--width", "4",
        "--input", "16x16x3", "--out", raw.toString()).code());
    Path rewritten = tmp.resolve("rw18");
    Cli rw = Cli.run("rewrite", raw.toString(), "--shortcut-weight", "0.8",
        "--out", rewritten.toString());
    assertEquals(0, rw.code(), rw.err());
    assertEquals(etaBuilt, record(rewritten).tatTargets().orElseThrow().eta(), 1e-6);
    Cli.assertOneErrorLine(Cli.run("rewrite", raw.toString(), "--shortcut-weight", "0.8",
        "--eta", "0.9", "--out", tmp.resolve("never").toString()), "--eta auto");
  }
}
