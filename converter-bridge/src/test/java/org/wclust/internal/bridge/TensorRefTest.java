package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorRefTest {
  @Test
  void parsesTheThreeReferenceForms() {
    assertEquals(new TensorRef("a/b", 0, false), TensorRef.parse("a/b"));
    assertEquals(new TensorRef("a/b", 3, false), TensorRef.parse("a/b:3"));
    TensorRef control = TensorRef.parse("^a/b");
    assertTrue(control.control());
    assertEquals("a/b", control.node());
  }

  @Test
  void canonicalFormDropsIndexZeroButSignatureFormKeepsIt() {
    assertEquals("x", TensorRef.parse("x:0").toString());
    assertEquals("x:2", TensorRef.parse("x:2").toString());
    assertEquals("x:0", TensorRef.parse("x").withIndex());
  }
}
