package dev.reliablestore.benchmarks.suite;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Deterministic entities of a given JSON size, and their JSON bytes, so that ReliableStore and every
 * peer (SQLite, the file provider, the raw fsync'ed append) store the same bytes.
 */
public final class Payloads {

    /** The mapper the peers use to write the same JSON the provider writes (records, no extras). */
    public static final ObjectMapper JSON = new ObjectMapper();

    private static final String[] WORDS = {"steel", "bracket", "blue", "socket", "cable", "assembly", "grade", "A",
        "pump", "valve", "filter", "kit", "premium", "standard", "replacement", "housing", "seal", "bolt", "M8", "M10",
        "stainless", "coated", "industrial", "bearing", "motor", "controller", "sensor", "module", "panel", "frame"};
    private static final String[] STATUS = {"NEW", "CONFIRMED", "PICKED", "SHIPPED", "INVOICED"};

    private Payloads() {
    }

    /**
     * An order whose JSON is at least {@code jsonBytes} long and less than one line longer
     * (a line is about 110 bytes). The same {@code id} and size always give the same order.
     */
    public static Order order(String id, int jsonBytes) {
        if (jsonBytes < 256 || jsonBytes > 1 << 20) {
            throw new IllegalArgumentException("jsonBytes = " + jsonBytes + " is outside 256..1048576");
        }
        Random r = new Random(id.hashCode() * 31L + jsonBytes);
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("channel", r.nextBoolean() ? "web" : "edi");
        attributes.put("warehouse", "WH-" + (1 + r.nextInt(9)));
        attributes.put("priority", String.valueOf(r.nextInt(5)));
        List<Order.Line> lines = new ArrayList<>();
        String customer = "CUST-" + (100_000 + r.nextInt(900_000));
        String created = "2025-0" + (1 + r.nextInt(9)) + "-1" + r.nextInt(10) + "T1" + r.nextInt(10) + ":2" + r.nextInt(10) + ":00Z";
        String note = words(r, 8);
        Order o = new Order(id, customer, STATUS[r.nextInt(STATUS.length)], created, lines, attributes, note);
        while (bytes(o).length < jsonBytes) {
            lines.add(new Order.Line("SKU-" + (10_000 + r.nextInt(90_000)), words(r, 5 + r.nextInt(4)),
                    1 + r.nextInt(50), 100 + r.nextInt(1_000_000)));
        }
        return new Order(id, customer, o.status(), created, List.copyOf(lines), Map.copyOf(attributes), note);
    }

    /** The JSON bytes of an entity, as the peers store them. */
    public static byte[] bytes(Object entity) {
        try {
            return JSON.writeValueAsBytes(entity);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + entity.getClass().getName() + " as JSON", e);
        }
    }

    /** Reads JSON written by {@link #bytes} (the peers' read path: bytes → entity, as the provider does). */
    public static Order read(byte[] json) {
        try {
            return JSON.readValue(json, Order.class);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read an Order from " + json.length + " bytes of JSON", e);
        }
    }

    private static String words(Random r, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append(' ');
            }
            b.append(WORDS[r.nextInt(WORDS.length)]);
        }
        return b.toString();
    }
}
