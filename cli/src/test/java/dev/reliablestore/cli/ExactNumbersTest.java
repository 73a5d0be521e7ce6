package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.codec.EntityCodec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

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
}
