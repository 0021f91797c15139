package main

import "errors"

type signInput struct{}

func kcmSign(in signInput) (interface{}, error) { return nil, errors.New("kcm-sign: not yet") }
