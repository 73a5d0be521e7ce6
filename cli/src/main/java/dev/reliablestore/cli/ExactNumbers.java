package dev.reliablestore.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * JSON trees whose numbers are the stored ones: the tool copies entities it has no classes for
 * ({@code migrate}), so a number read into a tree and written back must come out as it was stored.
 * The stores' default mapper reads a float of a tree as a {@code BigDecimal}, which has no negative
 * zero and writes its own text ({@code 1.2345678E7}, as a {@code double} field is stored, would be
 * written {@code 12345678}: an integer, which an untyped reader gets as an {@code Integer}, not a
 * {@code BigDecimal}). Here every float, and a negative integer zero, is an {@link AsRead} that
 * reads as that exact {@code BigDecimal} and writes the text it was read from; other integers are
 * Jackson's own nodes, whose text is the only one JSON allows for their value.
 */
final class ExactNumbers {

    private ExactNumbers() {
    }

    /** Reads {@link JsonNode} trees with exact numbers; nothing else changes. */
    static SimpleModule module() {
        SimpleModule m = new SimpleModule("reliablestore-cli-exact-numbers");
        m.addDeserializer(JsonNode.class, new TreeDeserializer());
        return m;
    }

    /** Builds the tree token by token, without recursion (nesting is bounded by the mapper's read limits only). */
    static final class TreeDeserializer extends StdDeserializer<JsonNode> {
        private static final long serialVersionUID = 1L;

        TreeDeserializer() {
            super(JsonNode.class);
        }

        @Override
        public JsonNode getNullValue(DeserializationContext ctxt) {
            return NullNode.getInstance(); // as Jackson's own tree reader: JSON null is a node
        }

        @Override
        public boolean isCachable() {
            return true;
        }

        @Override
        public JsonNode deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNodeFactory nodes = ctxt.getNodeFactory();
            Deque<Open> open = new ArrayDeque<>();
            JsonNode root = null;
            JsonToken t = p.currentToken();
            if (t == JsonToken.FIELD_NAME || t == JsonToken.END_OBJECT) {
                // called inside an object whose start a caller consumed (buffered content)
                ObjectNode o = nodes.objectNode();
                if (t == JsonToken.END_OBJECT) {
                    return o;
                }
                open.push(new Open(o));
                root = o;
            }
            while (true) {
                if (t == null) {
                    return ctxt.reportInputMismatch(this, "unexpected end of JSON content");
                }
                JsonNode value;
                switch (t) {
                    case FIELD_NAME -> {
                        open.element().name = p.currentName();
                        t = p.nextToken();
                        continue;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        open.pop();
                        if (open.isEmpty()) {
                            return root;
                        }
                        t = p.nextToken();
                        continue;
                    }
                    case START_OBJECT -> value = nodes.objectNode();
                    case START_ARRAY -> value = nodes.arrayNode();
                    case VALUE_STRING -> value = nodes.textNode(p.getText());
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> value = number(p, t);
                    case VALUE_TRUE -> value = nodes.booleanNode(true);
                    case VALUE_FALSE -> value = nodes.booleanNode(false);
                    case VALUE_NULL -> value = nodes.nullNode();
                    case VALUE_EMBEDDED_OBJECT -> {
                        Object embedded = p.getEmbeddedObject();
                        value = embedded instanceof byte[] bytes ? nodes.binaryNode(bytes) : nodes.pojoNode(embedded);
                    }
                    default -> {
                        return ctxt.reportInputMismatch(this, "unexpected JSON token " + t);
                    }
                }
                if (open.isEmpty()) {
                    if (!value.isContainerNode()) {
                        return value;
                    }
                    root = value;
                } else {
                    Open parent = open.element();
                    if (parent.node instanceof ObjectNode o) {
                        o.set(parent.name, value); // a repeated name: the later value, as Jackson's own tree reader
                    } else {
                        ((ArrayNode) parent.node).add(value);
                    }
                }
                if (value.isContainerNode()) {
                    open.push(new Open(value));
                }
                t = p.nextToken();
            }
        }

        private static JsonNode number(JsonParser p, JsonToken t) throws IOException {
            String text = p.getText();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                JsonParser.NumberType type = p.getNumberType();
                if (type == JsonParser.NumberType.INT) {
                    int v = p.getIntValue();
                    return v == 0 && text.startsWith("-") ? new AsRead(text, BigDecimal.ZERO, true) : IntNode.valueOf(v);
                }
                return type == JsonParser.NumberType.LONG ? LongNode.valueOf(p.getLongValue()) : BigIntegerNode.valueOf(p.getBigIntegerValue());
            }
            return new AsRead(text, p.getDecimalValue(), false);
        }

        /** A container being filled, and the name of its next field when it is an object. */
        private static final class Open {
            final JsonNode node;
            String name;

            Open(JsonNode node) {
                this.node = node;
            }
        }
    }

    /**
     * A number as it was read ({@code 1.2345678E7}, {@code 1.0E+7}, {@code 12.30}, {@code -0.0},
     * {@code -0}): to a reader, the {@code BigDecimal} Jackson's own node would hold (a negative zero
     * still reads as {@code -0.0} into a double); written, its text. Equal to another only when
     * written the same, as the content comparisons of {@code migrate} count them: {@code 1.0E7}
     * differs from {@code 1.0E+7} and from {@code 10000000.0}, {@code -0.0} from {@code 0.0}.
     */
    static final class AsRead extends NumericNode {
        private static final long serialVersionUID = 1L;
        private static final BigDecimal MIN_INT = BigDecimal.valueOf(Integer.MIN_VALUE);
        private static final BigDecimal MAX_INT = BigDecimal.valueOf(Integer.MAX_VALUE);
        private static final BigDecimal MIN_LONG = BigDecimal.valueOf(Long.MIN_VALUE);
        private static final BigDecimal MAX_LONG = BigDecimal.valueOf(Long.MAX_VALUE);

        /** A JSON number token, as the parser read it. */
        private final String text;
        private final BigDecimal value;
        /** Only for {@code -0}: every other integer token is one of Jackson's nodes. */
        private final boolean integral;

        AsRead(String text, BigDecimal value, boolean integral) {
            this.text = text;
            this.value = value;
            this.integral = integral;
        }

        /** A BigDecimal has no sign of zero: the text has. */
        private boolean negativeZero() {
            return value.signum() == 0 && text.startsWith("-");
        }

        @Override
        public JsonToken asToken() {
            return integral ? JsonToken.VALUE_NUMBER_INT : JsonToken.VALUE_NUMBER_FLOAT;
        }

        @Override
        public JsonParser.NumberType numberType() {
            return integral ? JsonParser.NumberType.INT : JsonParser.NumberType.BIG_DECIMAL;
        }

        @Override
        public boolean isIntegralNumber() {
            return integral;
        }

        @Override
        public boolean isFloatingPointNumber() {
            return !integral;
        }

        @Override
        public boolean isBigDecimal() {
            return !integral;
        }

        @Override
        public boolean isInt() {
            return integral;
        }

        @Override
        public Number numberValue() {
            return integral ? (Number) value.intValue() : value;
        }

        @Override
        public short shortValue() {
            return value.shortValue();
        }

        @Override
        public int intValue() {
            return value.intValue();
        }

        @Override
        public long longValue() {
            return value.longValue();
        }

        @Override
        public float floatValue() {
            return negativeZero() ? -0.0f : value.floatValue();
        }

        @Override
        public double doubleValue() {
            return negativeZero() ? -0.0 : value.doubleValue();
        }

        @Override
        public BigDecimal decimalValue() {
            return value;
        }

        @Override
        public BigInteger bigIntegerValue() {
            return _bigIntFromBigDec(value); // as Jackson's DecimalNode: refuses a scale too large to expand
        }

        @Override
        public boolean canConvertToInt() {
            return value.compareTo(MIN_INT) >= 0 && value.compareTo(MAX_INT) <= 0;
        }

        @Override
        public boolean canConvertToLong() {
            return value.compareTo(MIN_LONG) >= 0 && value.compareTo(MAX_LONG) <= 0;
        }

        @Override
        public boolean canConvertToExactIntegral() {
            return value.signum() == 0 || value.scale() <= 0 || value.stripTrailingZeros().scale() <= 0;
        }

        @Override
        public String asText() {
            return text;
        }

        @Override
        public void serialize(JsonGenerator g, SerializerProvider provider) throws IOException {
            g.writeNumber(text);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AsRead n && n.text.equals(text);
        }

        @Override
        public int hashCode() {
            return text.hashCode();
        }
    }
}
