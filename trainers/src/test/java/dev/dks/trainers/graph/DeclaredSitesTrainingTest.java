package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.shaping.ShapingRecorder;
import dev.dks.solver.solve.Method;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The trainer's structure analysis reads the Sin sites a model declares, as {@code dks verify}
 * and {@code inspect} do: a DKS sin MLP of depth 3 (its Sin nodes named as the build's shaping
 * record names them, {@link ShapingRecorder#oneOpSites}) has 3 nonlinear layers in series, the
 * build's depth. Negative control: without the declaration Sin is not an activation and the
 * same model is linear to the analysis (depth 0), as a real model's geometric Sin must be.
 */
class DeclaredSitesTrainingTest {
  @Test
  void declaredSinSitesAreActivationsToTheTrainer() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 3).width(8)
        .input("1x1x4").classes(3).activation("sin").shaped(Method.DKS).seed(3).build()).model();
    Map<String, String> declared = ShapingRecorder.oneOpSites(m, Map.of("Sin", "sin"));
    assertEquals(3, declared.size(), declared.toString());
    try (TrainingGraph tg = TrainingGraph.build(m,
        TrainingSpec.defaults().withDeclaredSites(declared));
        TrainingGraph undeclared = TrainingGraph.build(m, TrainingSpec.defaults())) {
      assertEquals(3, tg.structureDepth());
      assertEquals(0, undeclared.structureDepth());
      // the layers the trainer decays and K-FAC registers do not depend on the sites
      assertEquals(tg.kernelVariables(), undeclared.kernelVariables());
    }
  }
}
