package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The CLI's classpath binds SLF4J (used by the Keras HDF5 reader's jhdf) to its no-operation
 * logger, so reading a {@code .h5} prints nothing: without a binding SLF4J 1.7 falls back to its
 * NOP logger after printing "SLF4J: Failed to load class org.slf4j.impl.StaticLoggerBinder" and
 * two more lines on stderr (seen on every {@code dks train} of a Keras HDF5 model).
 */
class QuietLoggingTest {
  @Test
  void slf4jIsBoundToTheNopLoggerByABindingNotByTheFallback() throws Exception {
    // the binding class exists only when a binding jar is on the classpath (negative control:
    // without slf4j-nop this throws ClassNotFoundException, the case that printed the lines)
    Class<?> binder = Class.forName("org.slf4j.impl.StaticLoggerBinder");
    assertEquals("org.slf4j.helpers.NOPLoggerFactory",
        LoggerFactory.getILoggerFactory().getClass().getName());
    assertEquals("slf4j-nop", binder.getProtectionDomain().getCodeSource().getLocation()
        .getPath().replaceAll(".*/(slf4j-nop)-[^/]*\\.jar$", "$1"));
  }
}
