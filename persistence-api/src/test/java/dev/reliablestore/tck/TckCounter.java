package dev.reliablestore.tck;

/** The small entity the TCK's concurrency tests increment. */
public record TckCounter(long value, String lastWriter) {
}
