package dev.reliablestore.cluster;

import com.fasterxml.jackson.databind.JavaType;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.codec.JacksonEntityCodec;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link StoreCodec} with the default codec writes it can read back: the read limits (Jackson's
 * StreamReadConstraints) are never tighter than what a write accepts, so a save can not succeed with a value no read will
 * ever return. And stored data never chooses the Java class it is read as.
 */
class JsonCodecTest {

    record Text(String text) {
    }

    record Numbers(BigInteger integer, BigDecimal decimal) {
    }

    record Named(Map<String, Integer> counts) {
    }

    record Holder(Object value) {
    }

    @Test
    void aStringLongerThanJacksonsDefaultLimitIsReadBack() {
        StoreCodec<Text> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Text.class);
        Text big = new Text("a".repeat(21_000_000)); // Jackson's default read limit is 20,000,000 characters
        assertThat(codec.read(codec.write(big), "T/big")).isEqualTo(big);
    }

    @Test
    void aPropertyNameLongerThanJacksonsDefaultLimitIsReadBack() {
        StoreCodec<Named> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Named.class);
        Named big = new Named(Map.of("k".repeat(60_000), 1)); // default read limit: 50,000
        assertThat(codec.read(codec.write(big), "T/big")).isEqualTo(big);
    }

    @Test
    void aNumberTheReaderWouldRefuseIsRefusedWhenWritten() {
        StoreCodec<Numbers> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Numbers.class);
        Numbers fits = new Numbers(new BigInteger("9".repeat(JacksonEntityCodec.MAX_NUMBER_LENGTH)), new BigDecimal("1." + "5".repeat(900)));
        assertThat(codec.read(codec.write(fits), "T/fits")).isEqualTo(fits);
        Numbers tooLong = new Numbers(new BigInteger("9".repeat(JacksonEntityCodec.MAX_NUMBER_LENGTH + 1)), BigDecimal.ONE);
        assertThatThrownBy(() -> codec.write(tooLong)).isInstanceOf(PersistenceException.class)
                .hasMessageContaining(Integer.toString(JacksonEntityCodec.MAX_NUMBER_LENGTH + 1))
                .hasMessageContaining(Integer.toString(JacksonEntityCodec.MAX_NUMBER_LENGTH))
                .hasMessageNotContaining("99999");
        Numbers longDecimal = new Numbers(BigInteger.ONE, new BigDecimal("1." + "5".repeat(JacksonEntityCodec.MAX_NUMBER_LENGTH + 1)));
        assertThatThrownBy(() -> codec.write(longDecimal)).isInstanceOf(PersistenceException.class);
    }

    record Labelled(String label, BigInteger integer, String note) {
    }

    @Test
    void digitsInStringsAreNotNumbersAndEscapesDoNotEndAString() {
        StoreCodec<Labelled> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Labelled.class);
        String digits = "1234567890".repeat(500);
        // strings of digits far past the number limit, one ending in an escaped quote and one in a backslash
        Labelled fine = new Labelled(digits + "\"", BigInteger.TEN, digits + "\\");
        assertThat(codec.read(codec.write(fine), "T/fine")).isEqualTo(fine);
        // a too-long number right after strings that end in escapes is still found
        Labelled after = new Labelled("q\"", new BigInteger("7".repeat(JacksonEntityCodec.MAX_NUMBER_LENGTH + 1)), "\\");
        assertThatThrownBy(() -> codec.write(after)).isInstanceOf(PersistenceException.class)
                .hasMessageContaining(Integer.toString(JacksonEntityCodec.MAX_NUMBER_LENGTH));
    }

    @Test
    void aCustomMappersReadLimitsAreHeldOnWriteEvenForShortDocuments() {
        com.fasterxml.jackson.databind.json.JsonMapper strict = com.fasterxml.jackson.databind.json.JsonMapper.builder(
                com.fasterxml.jackson.core.JsonFactory.builder()
                        .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxStringLength(100).build())
                        .build()).build();
        StoreCodec<Text> codec = new StoreCodec<>(JacksonEntityCodec.of(strict), Text.class);
        Text fits = new Text("x".repeat(100));
        assertThat(codec.read(codec.write(fits), "T/fits")).isEqualTo(fits);
        // 112 bytes of JSON: far shorter than the number limit, with a string longer than this reader takes
        assertThatThrownBy(() -> codec.write(new Text("x".repeat(101)))).isInstanceOf(PersistenceException.class)
                .hasMessageContaining("could not be read back").hasMessageContaining("100");
    }

    @Test
    void storedDataNeverChoosesAJavaClass() {
        JavaType object = JacksonEntityCodec.defaults().mapper().constructType(Object.class);
        assertThat(JacksonEntityCodec.defaults().mapper().getDeserializationConfig().getDefaultTyper(object)).as("default typing").isNull();
        StoreCodec<Holder> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Holder.class);
        Holder array = codec.read("{\"value\":[\"java.util.concurrent.atomic.AtomicBoolean\",true]}".getBytes(StandardCharsets.UTF_8), "T/a");
        assertThat(array.value()).isEqualTo(List.of("java.util.concurrent.atomic.AtomicBoolean", true));
        Holder property = codec.read("{\"value\":{\"@class\":\"java.util.concurrent.atomic.AtomicBoolean\",\"value\":true}}"
                .getBytes(StandardCharsets.UTF_8), "T/p");
        assertThat(property.value()).isInstanceOf(Map.class);
    }

    record Timing(java.time.Duration duration) {
    }

    /** The codec's Javadoc and docs/cluster-registry-provider.md promise ISO-8601; main wrote 1.500000000. */
    @Test
    void aDurationIsWrittenAsIso8601() {
        StoreCodec<Timing> codec = new StoreCodec<>(JacksonEntityCodec.defaults(), Timing.class);
        assertThat(new String(codec.write(new Timing(java.time.Duration.ofMillis(1500))), StandardCharsets.UTF_8))
                .isEqualTo("{\"duration\":\"PT1.5S\"}");
        assertThat(codec.read("{\"duration\":1.500000000}".getBytes(StandardCharsets.UTF_8), "T/legacy").duration())
                .isEqualTo(java.time.Duration.ofMillis(1500));
    }
}
