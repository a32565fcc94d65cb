# certdesk: one static binary for `api`, `worker`, `migrate` and `seed`.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/certdesk ./cmd/certdesk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/certdesk /usr/local/bin/certdesk
USER nonroot
# In a container both listen on every interface, so probes from outside it
# reach them: the api on 8080, the worker's health and metrics on 9090.
ENV CERTDESK_HTTP_ADDR=0.0.0.0:8080 CERTDESK_WORKER_HTTP_ADDR=0.0.0.0:9090
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/certdesk"]
CMD ["api"]
