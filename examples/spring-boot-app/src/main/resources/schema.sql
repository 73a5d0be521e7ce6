create table if not exists invoices(order_id varchar(64) primary key, customer_id varchar(64) not null, amount bigint not null);
