/**
 * The entity serialization seam: {@link dev.reliablestore.codec.EntityCodec} and its default,
 * {@link dev.reliablestore.codec.JacksonEntityCodec}. See {@code docs/providers.md} ("What a value may be").
 */
package dev.reliablestore.codec;
