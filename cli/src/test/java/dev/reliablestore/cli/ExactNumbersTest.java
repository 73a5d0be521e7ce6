package dev.reliablestore.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The tool's trees keep every stored number as it was written, through the tool's codec and its own JSON reading. */
class ExactNumbersTest {

    private static String roundTrip(String json) throws Exception {
        EntityCodec.TypeCodec<JsonNode> codec = Json.CODEC.forType(JsonNode.class);
        return new String(codec.encode(codec.decode(json.getBytes(StandardCharsets.UTF_8))), StandardCharsets.UTF_8);
    }

    @Test
    void numbersComeBackAsTheyWereStored() throws Exception {
        String stored = "{\"negZero\":-0.0,\"negZeroInt\":-0,\"negZeroScaled\":-0.00,\"negZeroExp\":-0E+5,\"zero\":0.0,"
                + "\"scaled\":12.30,\"huge\":1E+400,\"digits\":0.1234567890123456789,\"int\":7,\"long\":12345678901,"
                + "\"big\":123456789012345678901234567890,\"neg\":-1.50,\"nested\":[[-0.0,{\"a\":[-0]}],[]],\"empty\":{},"
                + "\"s\":\"-0.0\",\"t\":true,\"f\":false,\"n\":null}";
        assertThat(roundTrip(stored)).isEqualTo(stored);
        assertThat(Json.write(Json.parseEntity(stored, "test"))).isEqualTo(stored);
    }

    @Test
    void aNegativeZeroReadsAsOneAndDiffersFromZero() throws Exception {
        JsonNode n = Json.MAPPER.readTree("{\"x\":-0.0,\"y\":0.0,\"z\":-0.00}");
        assertThat(Double.doubleToRawLongBits(n.get("x").doubleValue())).isNegative();
        assertThat(n.get("x").isFloatingPointNumber()).isTrue();
        assertThat(n.get("x")).isNotEqualTo(n.get("y")).isNotEqualTo(n.get("z"));
        assertThat(Json.canonicalBytes(Json.MAPPER.readTree("{\"a\":12.3}"))).isNotEqualTo(Json.canonicalBytes(Json.MAPPER.readTree("{\"a\":12.30}")));
        assertThat(Json.canonicalBytes(Json.MAPPER.readTree("{\"b\":1,\"a\":-0.0}")))
                .isEqualTo(Json.canonicalBytes(Json.MAPPER.readTree("{\"a\":-0.0,\"b\":1}")));
    }

    @Test
    void aRepeatedNameKeepsTheLaterValueAndNullIsANode() throws Exception {
        assertThat(roundTrip("{\"a\":1,\"a\":-0.0}")).isEqualTo("{\"a\":-0.0}");
        assertThat(Json.MAPPER.readTree("null").isNull()).isTrue();
        assertThat(Json.MAPPER.readTree("[1,[2,[3]]]").get(1).get(1).get(0).intValue()).isEqualTo(3);
    }

    /** As an application's double fields are stored: the default codec writes each in its shortest form. */
    @Test
    void jacksonsOwnDoubleOutputsComeBackByteForByte() throws Exception {
        double[] doubles = {12345678.0, 1.0E7, 1.5E-5, 1.0E-7, 1.733571234567E12, -1.0E-300, Double.MIN_VALUE, Double.MAX_VALUE};
        Map<String, Double> fields = new LinkedHashMap<>();
        for (int i = 0; i < doubles.length; i++) {
            fields.put("d" + i, doubles[i]);
        }
        String stored = JacksonEntityCodec.defaults().mapper().writeValueAsString(fields);
        assertThat(stored).isEqualTo("{\"d0\":1.2345678E7,\"d1\":1.0E7,\"d2\":1.5E-5,\"d3\":1.0E-7,\"d4\":1.733571234567E12,"
                + "\"d5\":-1.0E-300,\"d6\":4.9E-324,\"d7\":1.7976931348623157E308}");

        assertThat(roundTrip(stored)).isEqualTo(stored);
        assertThat(Json.write(Json.parseEntity(stored, "test"))).isEqualTo(stored);
        assertThat(new String(Json.canonicalBytes(Json.MAPPER.readTree(stored)), StandardCharsets.UTF_8)).isEqualTo(stored);
        assertThat(Json.pretty(Json.MAPPER.readTree(stored))).contains("\"d0\" : 1.2345678E7,").contains("\"d7\" : 1.7976931348623157E308");

        // what a typed reader gets is unchanged: the same doubles, the same BigDecimals
        JsonNode tree = Json.MAPPER.readTree(stored);
        for (int i = 0; i < doubles.length; i++) {
            JsonNode n = tree.get("d" + i);
            assertThat(n.doubleValue()).isEqualTo(doubles[i]);
            assertThat(n.decimalValue()).isEqualTo(new BigDecimal(Double.toString(doubles[i])));
            assertThat(n.numberValue()).isEqualTo(new BigDecimal(Double.toString(doubles[i])));
            assertThat(n.isFloatingPointNumber()).isTrue();
            assertThat(n.isBigDecimal()).isTrue();
            assertThat(n.numberType()).isEqualTo(JsonParser.NumberType.BIG_DECIMAL);
        }
        assertThat(tree.get("d0").intValue()).isEqualTo(12345678);
        assertThat(tree.get("d0").longValue()).isEqualTo(12345678L);
        assertThat(tree.get("d0").canConvertToInt()).isTrue();
        assertThat(tree.get("d7").canConvertToLong()).isFalse();
        assertThat(tree.get("d0").asText()).isEqualTo("1.2345678E7");
    }

    @Test
    void aFloatKeepsItsTextAndDiffersFromTheSameValueWrittenOtherwise() throws Exception {
        String[] sameValue = {"1.0E7", "1.0E+7", "1E7", "1e7", "10000000.0", "1.00E7"};
        for (String a : sameValue) {
            String doc = "{\"v\":" + a + "}";
            assertThat(roundTrip(doc)).isEqualTo(doc);
            assertThat(Json.MAPPER.readTree(doc)).isEqualTo(Json.MAPPER.readTree(doc));
            assertThat(Json.MAPPER.readTree(doc).hashCode()).isEqualTo(Json.MAPPER.readTree(doc).hashCode());
            for (String b : sameValue) {
                if (!a.equals(b)) {
                    assertThat(Json.MAPPER.readTree("{\"v\":" + b + "}")).as("%s vs %s", a, b).isNotEqualTo(Json.MAPPER.readTree(doc));
                    assertThat(Json.canonicalBytes(Json.MAPPER.readTree("{\"v\":" + b + "}"))).as("%s vs %s", a, b)
                            .isNotEqualTo(Json.canonicalBytes(Json.MAPPER.readTree(doc)));
                }
            }
            assertThat(Json.canonicalBytes(Json.MAPPER.readTree("{\"v\":10000000}"))).isNotEqualTo(Json.canonicalBytes(Json.MAPPER.readTree(doc)));
        }
        assertThat(roundTrip("{\"a\":0.0000001,\"b\":-1.5e-3,\"c\":1E-400,\"d\":2.50E+3}"))
                .isEqualTo("{\"a\":0.0000001,\"b\":-1.5e-3,\"c\":1E-400,\"d\":2.50E+3}");
    }

    @Test
    void integersBeyondALongKeepTheirText() throws Exception {
        String stored = "{\"a\":9223372036854775807,\"b\":9223372036854775808,\"c\":-9223372036854775809,"
                + "\"d\":123456789012345678901234567890123456789012345678901234567890,\"e\":-2147483649,\"f\":0}";
        assertThat(roundTrip(stored)).isEqualTo(stored);
        JsonNode tree = Json.MAPPER.readTree(stored);
        assertThat(tree.get("c").bigIntegerValue()).isEqualTo(new BigInteger("-9223372036854775809"));
        assertThat(tree.get("d").isIntegralNumber()).isTrue();
        assertThat(tree.get("f").numberValue()).isEqualTo(0);
    }

    @Test
    void putStoresEachNumberAsGivenAndGetShowsIt(@TempDir Path dir) {
        String store = "embedded:" + dir.resolve("data");
        String given = "{\"a\":1e7,\"b\":1.0E+7,\"c\":12.30,\"d\":-0.0,\"e\":0.0000001,\"f\":123456789012345678901234567890}";
        CliProcess.Result put = CliProcess.inProcess("put", "--store", store, "--type", "Reading", "--id", "R1", given);
        assertThat(put.exitCode()).as(put.toString()).isZero();
        CliProcess.Result get = CliProcess.inProcess("get", "--store", store, "--type", "Reading", "--id", "R1", "--json");
        assertThat(get.exitCode()).as(get.toString()).isZero();
        assertThat(get.out()).contains("\"value\":" + given);
    }
}
