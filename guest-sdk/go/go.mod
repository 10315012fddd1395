module github.com/bxwasm/bxwasm/guest-sdk/go

go 1.24
