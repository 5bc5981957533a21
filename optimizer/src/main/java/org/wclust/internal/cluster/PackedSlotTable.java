package org.wclust.internal.cluster;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TNumber;

/**
 * Re-assignment's last step without gathers: an element's slot (the rank of its nearest centroid among
 * its group's sorted centroids) becomes its codebook index through a table of k entries per group,
 * {@code entryTable[group, perm[group, slot]]}. TensorFlow's CPU gather fetches from such a tiny table
 * at about 5 ns per element (two gathers over every weight per re-assignment, the most expensive ops of
 * it); here each group's table, k entries of b bits each taken relative to the group's smallest entry,
 * is packed into one integer, and the index is {@code (packed >> b * slot) & (2^b - 1)} plus that
 * entry: three element-wise integer ops at a fraction of the cost, the same indices.
 *
 * <p>The packed word is an int32 when k·b fits in 31 bits, else an int64 (up to 64 bits: k = 16 at
 * b = 4 fills the sign bit; the shifts and the sum wrap, and the arithmetic right shift's sign extension
 * lands above the mask). Larger tables are not packed ({@link #of} returns null).
 */
final class PackedSlotTable {
  /** Bits per packed entry. */
  private final int bits;
  /** Entries per group (k). */
  private final int entries;
  /** Per group, its smallest entry (added back after the lookup). */
  private final int[] base;
  /** The entry table less each group's base, row-major [groups, entries]. */
  private final int[] local;
  /** Whether every base is 0 (nothing to add back). */
  private final boolean zeroBase;
  /** Whether the packed word needs 64 bits. */
  private final boolean wide;

  private PackedSlotTable(int bits, int entries, int[] base, int[] local, boolean zeroBase, boolean wide) {
    this.bits = bits;
    this.entries = entries;
    this.base = base;
    this.local = local;
    this.zeroBase = zeroBase;
    this.wide = wide;
  }

  /** The packed tables of {@code layout}'s groups, or null when k·b exceeds 64 bits. */
  static PackedSlotTable of(CodebookLayout layout) {
    int groups = layout.groups();
    int k = layout.entries();
    int[] table = layout.entryTable();
    int[] base = new int[groups];
    int[] local = new int[table.length];
    int widest = 0;
    boolean zeroBase = true;
    for (int g = 0; g < groups; g++) {
      int min = Integer.MAX_VALUE;
      for (int s = 0; s < k; s++) {
        min = Math.min(min, table[g * k + s]);
      }
      base[g] = min;
      zeroBase &= min == 0;
      for (int s = 0; s < k; s++) {
        local[g * k + s] = table[g * k + s] - min;
        widest = Math.max(widest, local[g * k + s]);
      }
    }
    int bits = Math.max(1, 32 - Integer.numberOfLeadingZeros(widest));
    if ((long) bits * k > 64) {
      return null;
    }
    return new PackedSlotTable(bits, k, base, local, zeroBase, (long) bits * k > 31);
  }

  /**
   * The codebook index of each slot.
   *
   * @param perm [groups, k]: the codebook-table position of each group's s-th smallest centroid (TopK's
   *     indices)
   * @param slots each element's slot, laid out [groups, members] ({@code columns} false) or
   *     [members, groups] (true: one group per channel of the last axis, in the weight's own order)
   * @return int32 codebook indices in the layout of {@code slots}
   */
  Operand<TInt32> lookup(Ops tf, Operand<TInt32> perm, Operand<TUint8> slots, boolean columns) {
    return wide ? lookup(tf, perm, slots, columns, TInt64.class) : lookup(tf, perm, slots, columns, TInt32.class);
  }

  private <T extends TNumber> Operand<TInt32> lookup(Ops tf, Operand<TInt32> perm, Operand<TUint8> slots,
      boolean columns, Class<T> word) {
    int groups = base.length;
    // Each group's table by slot: local[group, perm[group, s]] ([groups, k], a few small ops).
    Operand<TInt32> bySlot = perm;
    // One group whose local table is the identity: its slot's entry is perm itself.
    if (groups != 1 || !ClusteredWeight.isIdentity(local)) {
      bySlot = tf.gather(tf.constant(local), tf.math.add(perm, ClusteredWeight.rowStarts(tf, groups, entries)),
          tf.constant(0));
    }
    int[][] offsets = new int[1][entries];
    for (int s = 0; s < entries; s++) {
      offsets[0][s] = s * bits;
    }
    // The entries' bits do not overlap, so their sum is their bitwise or.
    Operand<T> shifted = tf.bitwise.leftShift(tf.dtypes.cast(bySlot, word), tf.dtypes.cast(tf.constant(offsets), word));
    Operand<T> packed = tf.sum(shifted, tf.constant(1), Sum.keepDims(true));
    int[] along = columns ? new int[] {1, groups} : new int[] {groups, 1};
    if (columns) {
      packed = tf.reshape(packed, tf.constant(along));
    }
    Operand<T> shift = tf.math.mul(tf.dtypes.cast(slots, word), tf.dtypes.cast(tf.constant(bits), word));
    Operand<T> mask = tf.dtypes.cast(tf.constant((int) ((1L << bits) - 1)), word); // bits <= 31
    Operand<TInt32> index = tf.dtypes.cast(tf.bitwise.bitwiseAnd(tf.bitwise.rightShift(packed, shift), mask),
        TInt32.class);
    return zeroBase ? index : tf.math.add(index, tf.reshape(tf.constant(base), tf.constant(along)));
  }
}
