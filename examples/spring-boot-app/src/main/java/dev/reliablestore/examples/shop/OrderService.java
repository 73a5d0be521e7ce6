package dev.reliablestore.examples.shop;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders: the order in ReliableStore and its invoice in H2, in one JTA transaction. */
@Service
public class OrderService {

    private final Customers customers;
    private final Orders orders;
    private final JdbcTemplate jdbc;

    public OrderService(Customers customers, Orders orders, JdbcTemplate jdbc) {
        this.customers = customers;
        this.orders = orders;
        this.jdbc = jdbc;
    }

    /**
     * Saves the order and its invoice, then checks the customer's credit: over the limit, the
     * exception rolls back both the order (ReliableStore) and the invoice (H2).
     */
    @Transactional
    public Order place(String orderId, String customerId, long amount) {
        Customer customer = customers.findById(customerId)
                .orElseThrow(() -> new IllegalArgumentException("no customer " + customerId));
        Order order = orders.save(new Order(orderId, customerId, amount));
        jdbc.update("insert into invoices(order_id, customer_id, amount) values (?, ?, ?)", orderId, customerId, amount);
        Long invoiced = jdbc.queryForObject("select coalesce(sum(amount), 0) from invoices where customer_id = ?", Long.class, customerId);
        if (invoiced == null || invoiced > customer.getCreditLimit()) {
            throw new CreditLimitExceededException(customerId, invoiced == null ? 0 : invoiced, customer.getCreditLimit());
        }
        return order;
    }

    /** The sum of the customer's invoices, in cents. */
    public long invoiced(String customerId) {
        Long sum = jdbc.queryForObject("select coalesce(sum(amount), 0) from invoices where customer_id = ?", Long.class, customerId);
        return sum == null ? 0 : sum;
    }
}
