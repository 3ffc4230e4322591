package dev.dks.trainers.device;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the oneDNN AVX-512 warning is due: only AVX-512 flags with neither work-around set. */
class OneDnnIsaCheckTest {
  private static final String AVX512 = "flags : fpu sse2 avx avx2 fma avx512f avx512dq avx512bw";
  private static final String AVX2 = "flags : fpu sse2 avx avx2 fma";

  @Test
  void warnsOnAnAvx512CpuWithoutTheCap() {
    String w = OneDnnIsaCheck.warning(AVX512, Map.of());
    assertNotNull(w);
    assertTrue(w.contains("ONEDNN_MAX_CPU_ISA=AVX2"), w);
  }

  @Test
  void silentWhenCappedOrOneDnnIsOffOrTheCpuHasNoAvx512() {
    assertNull(OneDnnIsaCheck.warning(AVX512, Map.of("ONEDNN_MAX_CPU_ISA", "AVX2")));
    assertNull(OneDnnIsaCheck.warning(AVX512, Map.of("TF_ENABLE_ONEDNN_OPTS", "0")));
    assertNull(OneDnnIsaCheck.warning(AVX2, Map.of()));
    assertNull(OneDnnIsaCheck.warning(null, Map.of()));
    // "1" keeps oneDNN on: still due
    assertNotNull(OneDnnIsaCheck.warning(AVX512, Map.of("TF_ENABLE_ONEDNN_OPTS", "1")));
  }

  @Test
  void theTestJvmRunsWithTheCapThePomExports() {
    // the surefire configuration of the root pom exports it; without it training tests crash on
    // AVX-512 machines
    assertNotNull(System.getenv("ONEDNN_MAX_CPU_ISA"));
  }
}
