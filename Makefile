# Every target delegates to ./run, which installs what it needs first.
.PHONY: install demo serve test lint typecheck bench clean

install:
	./run install

demo:
	./run demo $(ARGS)

serve:
	./run serve $(ARGS)

test:
	./run test $(ARGS)

lint:
	./run lint

typecheck:
	./run typecheck

bench:
	./run bench

clean:
	./run clean
