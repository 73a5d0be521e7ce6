package dev.reliablestore.it.provider;

/** A small entity for the provider-level HA tests: some text and the number of the write that stored it. */
public record Note(String text, long n) {
}
